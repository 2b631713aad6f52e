"""What in-process HTTP tests share: the address a test client calls from. A server in local
single-user mode answers only to its loopback names (api/guards.py), so the client says
127.0.0.1 rather than Starlette's made-up "testserver", as a person's browser or curl would."""

LOCAL_URL = "http://127.0.0.1"
