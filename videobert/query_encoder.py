"""A model's text tower, exported once and loaded without torch: what a search process needs to
embed a query.

``export_query_encoder`` (torch, run once per model version) writes a folder with the text tower
as ONNX, the fast tokenizer and a small record; ``QueryEncoder`` loads that folder with
onnxruntime and the ``tokenizers`` library only, so a cold ``vidsearch search`` does not import
torch or transformers (seconds on 2 CPU cores). The vectors are the model's own: the tests hold
them to the torch model's within 1e-5.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.third_party import quiet_third_parties

MODEL_FILE = "text.onnx"
# The same graph after onnxruntime's optimizations, saved at export: a session made from it
# skips the optimizing, which is most of a cold start's session time.
OPTIMIZED_FILE = "text.optimized.onnx"
TOKENIZER_FILE = "tokenizer.json"
RECORD_FILE = "query_encoder.json"
FORMAT = 1


class QueryEncoder:
    """``embed_text`` of an exported text tower; loads lazily and once."""

    def __init__(self, folder: Path, *, threads: int = 0) -> None:
        self.folder = Path(folder)
        record = json.loads((self.folder / RECORD_FILE).read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise ValueError(f"{folder}: query encoder format {record.get('format')!r}")
        self.name: str = record["name"]
        self.dim: int = int(record["dim"])
        self.max_tokens: int = int(record["max_tokens"])
        # How the model's own tokenizer call is reproduced (VideoBERT adds its special tokens
        # itself; CLIP and SigLIP take the tokenizer's, and SigLIP is padded to full length).
        self.add_special_tokens: bool = bool(record.get("add_special_tokens", False))
        self.pad_to: int | None = record.get("pad_to")
        self.pad_id: int = int(record.get("pad_id") or 0)
        self.pad_left: bool = record.get("padding_side") == "left"
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                quiet_third_parties()
                import onnxruntime as ort
                from tokenizers import Tokenizer

                options = ort.SessionOptions()
                if self.threads:
                    options.intra_op_num_threads = self.threads
                model = self.folder / MODEL_FILE
                if (self.folder / OPTIMIZED_FILE).is_file():
                    model = self.folder / OPTIMIZED_FILE
                    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
                self._session = ort.InferenceSession(
                    str(model), options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
                tokenizer.no_padding()
                tokenizer.enable_truncation(self.max_tokens)
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) unit vectors, as the model's own ``embed_text`` gives them."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        session, tokenizer = self.load()
        encoded = tokenizer.encode_batch(list(texts), add_special_tokens=self.add_special_tokens)
        width = self.pad_to or max(len(e.ids) for e in encoded)
        ids = np.full((len(encoded), width), self.pad_id, np.int64)
        mask = np.zeros((len(encoded), width), np.int64)
        for row, e in enumerate(encoded):
            at = width - len(e.ids) if self.pad_left else 0
            ids[row, at : at + len(e.ids)] = e.ids
            mask[row, at : at + len(e.ids)] = 1
        wanted = {i.name for i in session.get_inputs()}  # SigLIP's tower takes no mask
        feeds = {k: v for k, v in {"ids": ids, "mask": mask}.items() if k in wanted}
        (vectors,) = session.run(None, feeds)
        return np.asarray(vectors, dtype=np.float32)


def load_query_encoder(folder: Path) -> QueryEncoder | None:
    """The export in ``folder``, or None when there is none (or it is incomplete)."""
    if not all((folder / f).is_file() for f in (MODEL_FILE, TOKENIZER_FILE, RECORD_FILE)):
        return None
    try:
        return QueryEncoder(folder)
    except (OSError, ValueError, KeyError) as exc:
        import logging

        logging.getLogger(__name__).warning("ignoring the query encoder in %s: %s", folder, exc)
        return None


def export_query_encoder(embedder: Any, folder: Path) -> Path:
    """Export the text tower and tokenizer of a VideoBertEmbedder or a VisionLanguageEmbedder
    into ``folder`` (atomically: a reader finds the old export or the new one, never half)."""
    if hasattr(embedder, "vlm"):
        return _export_vision_language(embedder, folder)
    import torch

    from videobert.model import tokenize

    model = embedder.model.eval()

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.model.embed_text(ids, mask)  # type: ignore[no-any-return]

    max_tokens = int(model.config.max_text_tokens)
    ids, mask = tokenize(embedder.tokenizer, ["a query", "another longer query"], max_tokens)
    record = {"name": embedder.name, "max_tokens": max_tokens}
    return _write(TextTower().eval(), (ids, mask), embedder.tokenizer, record, folder)


def _export_vision_language(embedder: Any, folder: Path) -> Path:
    """A CLIP or SigLIP text tower, in float32 on the CPU (where search processes run it)."""
    import torch

    vlm = embedder.vlm
    loaded = vlm.load()
    model = loaded.model
    if vlm.device != "cpu" or model.dtype != torch.float32:
        import transformers

        from videobert.vision_language import KINDS

        cls = getattr(transformers, KINDS[loaded.kind][0])
        model = cls.from_pretrained(vlm.locate(), local_files_only=True, dtype=torch.float32)
    model = model.eval().cpu()
    uses_mask = loaded.kind == "clip"

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
            from videobert.vision_language import _pooled

            out = self.model.get_text_features(input_ids=ids, attention_mask=mask)
            return torch.nn.functional.normalize(_pooled(out).float(), dim=-1)

    batch = {k: v.cpu() for k, v in vlm.text_inputs(["a query", "another longer query"]).items()}
    inputs = (batch["input_ids"], batch["attention_mask"]) if uses_mask else (batch["input_ids"],)
    pad_id = loaded.tokenizer.pad_token_id
    record = {
        "name": embedder.name,
        "max_tokens": loaded.text_length,
        "add_special_tokens": True,
        "pad_to": None if uses_mask else loaded.text_length,
        "pad_id": int(pad_id) if pad_id is not None else 0,
        "padding_side": getattr(loaded.tokenizer, "padding_side", "right"),
    }
    return _write(TextTower().eval(), inputs, loaded.tokenizer, record, folder)


def _write(
    tower: Any, inputs: tuple[Any, ...], tokenizer: Any, record: dict[str, Any], folder: Path
) -> Path:
    import torch

    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with torch.inference_mode():
            dim = int(tower(*(x[:1] for x in inputs)).shape[1])
        with warnings.catch_warnings():
            # The tracer's notes on Python branches in the model: the exported graph is checked
            # against the model itself (tests), and a user running an ingest should not see them.
            warnings.simplefilter("ignore")
            _export(tower, inputs, tmp / MODEL_FILE)
        _optimize(tmp / MODEL_FILE, tmp / OPTIMIZED_FILE)
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError("the model's tokenizer has no fast (tokenizers) backend to export")
        backend.save(str(tmp / TOKENIZER_FILE))
        full = {"format": FORMAT, **record, "dim": dim}
        (tmp / RECORD_FILE).write_text(json.dumps(full, indent=1) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(folder)
    return folder


def _export(module: Any, inputs: tuple[Any, ...], path: Path) -> None:
    import torch

    names = ["ids", "mask"][: len(inputs)]
    torch.onnx.export(
        module,
        inputs,
        str(path),
        input_names=names,
        output_names=["vectors"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names},
        opset_version=17,
        dynamo=False,
    )


def _optimize(source: Path, target: Path) -> None:
    quiet_third_parties()
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Its warning that the optimized file suits this machine only is true and expected: the file
    # lives in this machine's VIDSEARCH_HOME and is made again for a new model.
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
