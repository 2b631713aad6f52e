# The vidsearch image: API, web UI and Celery workers all run from it.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY videobert videobert
COPY model_lifecycle model_lifecycle
COPY indexer indexer
COPY search search
COPY recommender recommender
COPY services services
COPY api api
COPY ui ui
# rapidocr (the OCR models) with --no-deps: its declared opencv-python would clash with
# opencv-python-headless; what it imports at run time is in pyproject.toml.
RUN pip install --no-cache-dir "torch==2.13.0" && pip install --no-cache-dir ".[media]" \
    && pip install --no-cache-dir --no-deps "rapidocr-onnxruntime==1.4.4"
ENV VIDSEARCH_HOME=/data
VOLUME ["/data"]
CMD ["vidsearch", "doctor"]
