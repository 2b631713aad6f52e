"""The model slots of this configuration: what ``vidsearch models`` lists and ``doctor`` shows,
and the start-up check every long-running process (API, web UI, worker) and ``ingest`` runs
before its first request, so a missing or broken model stops it with one line instead of
failing the first query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.settings import Settings

if TYPE_CHECKING:
    from videobert.registry import InferenceModel


def slot_models(settings: Settings) -> list[InferenceModel]:
    """One model per slot, as these settings configure them (nothing is loaded)."""
    from indexer.people import PeopleModels
    from indexer.screen_text import ScreenTextModels
    from indexer.transcribe import SpeechRecognizer
    from search.summary import BartSummarizer
    from videobert.device import pick_device
    from videobert.frames import FrameEncoder
    from videobert.text import TextEncoder

    device = pick_device(settings.device, settings.torch_threads)
    vision: InferenceModel = FrameEncoder(device)
    if settings.vision_model:
        from videobert.vision_language import VisionLanguageModel

        vision = VisionLanguageModel(settings.vision_model, device, settings.frame_batch_size)
    return [
        vision,
        TextEncoder(settings.text_model, device),
        SpeechRecognizer(settings),
        BartSummarizer(settings.summary_model),
        ScreenTextModels(),
        PeopleModels(),
    ]


def _in_use(settings: Settings, model: InferenceModel) -> bool:
    """Whether this configuration runs the slot's model (a stage turned off does not)."""
    return {
        "speech": settings.transcribe,
        "on-screen text": settings.screen_text,
        "people": settings.people,
    }.get(model.slot, True)


def _required(settings: Settings, model: InferenceModel) -> bool:
    """Slots whose absence stops a process at start-up. The summarizer has a fallback
    (extractive summaries) unless the user named another than the default: then a missing one
    is an error."""
    if model.slot == "summarizer":
        return settings.summary_model != default_summarizer()
    return _in_use(settings, model)


def default_summarizer() -> str:
    return str(Settings.model_fields["summary_model"].default)


def describe_slots(settings: Settings) -> dict[str, Any]:
    """``{"slots": [{slot, model, path, device, dtype, ready, error, in_use, required}]}``."""
    rows = []
    for model in slot_models(settings):
        row = model.describe()
        row["in_use"] = _in_use(settings, model)
        row["required"] = _required(settings, model)
        if row["error"] and not row["required"] and row["slot"] == "summarizer":
            row["error"] += " (summaries are extractive until then)"
        rows.append(row)
    return {"slots": rows}


def startup_problem(settings: Settings) -> str | None:
    """The one line that says which required model is missing or broken, or None."""
    from videobert.registry import ModelMissing

    try:
        check_models(settings)
    except ModelMissing as exc:
        return str(exc)
    return None


def check_models(settings: Settings) -> None:
    """Raise ModelMissing for the first required slot whose model is missing or broken; a
    cheap check of files (no weights loaded), run before a process serves anything."""
    for model in slot_models(settings):
        if _required(settings, model):
            model.locate()
