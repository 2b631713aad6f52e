"""VideoBERT: one BERT over WordPiece text and visual words, with MLM, alignment and retrieval heads.

Read top to bottom: the input format, the model (embeddings -> transformer -> heads), then the
zero-shot initialisation that lets an untrained model place video near matching text.

Vocabulary (ids the transformer sees):

    [0, T)              the backbone's WordPiece vocabulary, rows kept as trained
    T                   [>], the separator between text and video (starts as a copy of [SEP])
    [T + 1, T + 1 + V)  the V visual words of the codebook

Sequences: ``[CLS] text [>] video [SEP]`` (pairs), ``[CLS] text [SEP]`` (text only, exactly
the backbone's own format) and ``[CLS] [>] video [SEP]`` (video only). Token type 0 marks text
and [CLS], type 1 marks [>], video and the closing [SEP] of a sequence holding video. The
sides are padded in place (text block, then video block) and position ids count attended
tokens only, so padding inside the sequence computes exactly what packed tokens would.

A video position's input is either its visual word's embedding ("tokens", the paper) or its
clip's continuous features mapped into the word-embedding space ("continuous", as CBT): the
class-name mix (zero-shot, see the end of this file) plus a learned projection that starts at
zero.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from videobert.config import VideoBertConfig


@dataclass(frozen=True)
class Packed:
    """One batch of sequences in the model's input format."""

    input_ids: torch.Tensor  # (batch, seq) ids in the joint vocabulary
    attention_mask: torch.Tensor  # (batch, seq) 1 = attended
    token_type_ids: torch.Tensor  # (batch, seq) 0 text, 1 video
    position_ids: torch.Tensor  # (batch, seq) counting attended tokens only
    video_start: int  # index of the first video position (the video block is contiguous)
    video_len: int  # 0 for text-only sequences
    features: torch.Tensor | None = None  # (batch, video_len, feature_dim) continuous inputs
    use_features: torch.Tensor | None = None  # (batch, video_len) bool: features, not the id

    def replace(self, **changes: Any) -> Packed:
        return dataclasses.replace(self, **changes)


def _build_bert(config: VideoBertConfig, bert_config: dict[str, Any] | None) -> Any:
    """The transformer without BERT's pooler (we pool ourselves): from the backbone folder, from
    a saved BertConfig (a checkpoint's own weights follow), or fresh and random."""
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no weight-loading bars in CLI output
    if bert_config is not None:
        bert = BertModel(BertConfig.from_dict(bert_config))
    elif config.backbone is not None:
        # Load with the pooler (its weights are in the file, so no "unexpected keys" report),
        # then drop it: BertModel skips a None pooler.
        bert = BertModel.from_pretrained(config.backbone, local_files_only=True)
    else:
        bert = BertModel(
            BertConfig(
                vocab_size=config.text_vocab_size,
                hidden_size=config.hidden_size,
                num_hidden_layers=config.num_layers,
                num_attention_heads=config.num_heads,
                intermediate_size=config.intermediate_size,
                max_position_embeddings=config.max_position_embeddings,
                pad_token_id=config.pad_token_id,
                type_vocab_size=2,
            )
        )
    bert.pooler = None
    if bert.config.type_vocab_size < 2:
        raise ValueError(
            f"backbone {config.backbone} has {bert.config.type_vocab_size} token types; "
            "VideoBERT needs 2 (text and video)"
        )
    return bert


class VideoBert(nn.Module):
    """The joint text + video transformer and its heads.

    ``num_visual_words`` is the codebook's size. ``bert_config`` (a ``BertConfig.to_dict()``
    before the vocabulary was extended) rebuilds the transformer's shape without reading the
    backbone, for loading a checkpoint.
    """

    # Frozen zero-shot state (see init_zero_shot), saved with the weights.
    classifier_weight: torch.Tensor  # (classes, feature_dim)
    classifier_bias: torch.Tensor  # (classes,)
    class_embeddings: torch.Tensor  # (classes, hidden)

    def __init__(
        self,
        config: VideoBertConfig,
        num_visual_words: int,
        bert_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if num_visual_words < 1:
            raise ValueError(f"num_visual_words must be positive, got {num_visual_words}")
        self.config = config
        self.bert: Any = _build_bert(config, bert_config)
        self.bert_config = self.bert.config.to_dict()  # before the vocabulary grows
        bc = self.bert.config
        self.text_vocab_size = T = int(bc.vocab_size)
        self.num_visual_words = V = int(num_visual_words)
        self.video_sep_id = T  # [>]
        self.visual_offset = T + 1
        for name in ("pad_token_id", "cls_token_id", "sep_token_id", "mask_token_id"):
            if getattr(config, name) >= T:
                raise ValueError(
                    f"{name} {getattr(config, name)} is outside the backbone's text vocabulary "
                    f"of {T}"
                )
        self.special_ids = (config.pad_token_id, config.cls_token_id, config.sep_token_id, T)
        H = int(bc.hidden_size)
        self.hidden_size = H
        init_std = float(bc.initializer_range)

        # Word embeddings grow by [>] and the visual words; the text rows stay as trained.
        old = self.bert.get_input_embeddings()
        words = nn.Embedding(T + 1 + V, H, padding_idx=old.padding_idx)
        with torch.no_grad():
            words.weight.normal_(0.0, init_std)
            words.weight[:T] = old.weight
            words.weight[T] = old.weight[config.sep_token_id]  # a separator it already knows
        self.bert.set_input_embeddings(words)
        self.bert.config.vocab_size = T + 1 + V

        # Continuous video inputs: features -> word-embedding space.
        Fd, C = config.feature_dim, config.num_classes
        self.feature_norm = nn.LayerNorm(Fd)
        self.feature_proj = nn.Linear(Fd, H)
        # The frame encoder's classifier and the class names' word embeddings, filled by
        # init_zero_shot; frozen (buffers), so training moves feature_proj instead.
        self.register_buffer("classifier_weight", torch.zeros(C, Fd))
        self.register_buffer("classifier_bias", torch.zeros(C))
        self.register_buffer("class_embeddings", torch.zeros(C, H))

        # Heads.
        self.mlm_transform = nn.Sequential(
            nn.Linear(H, H), nn.GELU(), nn.LayerNorm(H, eps=bc.layer_norm_eps)
        )
        self.mlm_bias = nn.Parameter(torch.zeros(T + 1 + V))  # decoder = word embeddings (tied)
        self.align_head = nn.Sequential(nn.Linear(H, H), nn.Tanh(), nn.Linear(H, 1))
        P = config.projection_dim or H
        self.projection = nn.Linear(H, P, bias=False)

        for module in (self.mlm_transform, self.align_head):
            for layer in module:
                if isinstance(layer, nn.Linear):
                    nn.init.normal_(layer.weight, 0.0, init_std)
                    nn.init.zeros_(layer.bias)
        # Zero: an untrained model's continuous input is the class-name mix alone.
        nn.init.zeros_(self.feature_proj.weight)
        nn.init.zeros_(self.feature_proj.bias)
        # Identity (or orthogonal, which keeps cosines when P >= H): an untrained model embeds
        # text exactly as the backbone's mean pooling does.
        if P == H:
            nn.init.eye_(self.projection.weight)
        else:
            nn.init.orthogonal_(self.projection.weight)

    @property
    def device(self) -> torch.device:
        return self.projection.weight.device

    @property
    def word_embeddings(self) -> nn.Embedding:
        emb: nn.Embedding = self.bert.get_input_embeddings()
        return emb

    # ------------------------------------------------------------------ input format

    def pack(
        self,
        text_ids: torch.Tensor | None = None,
        text_mask: torch.Tensor | None = None,
        video: torch.Tensor | None = None,
        video_mask: torch.Tensor | None = None,
        *,
        visual_ids: torch.Tensor | None = None,
    ) -> Packed:
        """Build ``[CLS] text [>] video [SEP]`` (either side may be absent).

        text_ids: (batch, text_len) WordPiece ids WITHOUT [CLS]/[SEP] (tokenize with
        ``add_special_tokens=False``, see ``tokenize``); masks are 1 for real tokens.
        video: (batch, video_len) visual word ids in [0, num_visual_words), or
        (batch, video_len, feature_dim) float clip features. ``visual_ids`` may accompany
        features (the words are then the video MLM targets; the features are the input).
        """
        if text_ids is not None:
            B = text_ids.shape[0]
        elif video is not None:
            B = video.shape[0]
        else:
            raise ValueError("pack needs text, video or both")
        dev = self.device
        parts_ids: list[torch.Tensor] = []
        parts_att: list[torch.Tensor] = []
        parts_type: list[torch.Tensor] = []

        def block(ids: torch.Tensor, att: torch.Tensor, ttype: int) -> None:
            parts_ids.append(ids.to(dev, torch.long))
            parts_att.append(att.to(dev, torch.long))
            parts_type.append(torch.full_like(parts_ids[-1], ttype))

        def const(token: int, ttype: int) -> None:
            block(torch.full((B, 1), token), torch.ones(B, 1), ttype)

        const(self.config.cls_token_id, 0)
        if text_ids is not None:
            if text_ids.dim() != 2 or text_ids.shape[0] != B:
                raise ValueError(f"text_ids must be (batch={B}, len), got {tuple(text_ids.shape)}")
            tm = torch.ones_like(text_ids) if text_mask is None else text_mask
            ids = torch.where(
                tm.bool(), text_ids, torch.full_like(text_ids, self.config.pad_token_id)
            )
            block(ids, tm, 0)

        features = use_features = None
        video_start, video_len = sum(p.shape[1] for p in parts_ids), 0
        if video is not None:
            ids, features = self._video_ids(video, visual_ids)
            if ids.shape[0] != B:
                raise ValueError(f"video batch {ids.shape[0]} != text batch {B}")
            video_len = ids.shape[1]
            vm = torch.ones_like(ids) if video_mask is None else video_mask.to(ids.device)
            if vm.shape != ids.shape:
                raise ValueError(f"video_mask {tuple(vm.shape)} != video {tuple(ids.shape)}")
            ids = torch.where(vm.bool(), ids, torch.full_like(ids, self.config.pad_token_id))
            const(self.video_sep_id, 1)
            video_start += 1
            block(ids, vm, 1)
            if features is not None:
                features = features.to(dev)
                use_features = vm.to(dev).bool()
        const(self.config.sep_token_id, 1 if video is not None else 0)

        attention = torch.cat(parts_att, 1)  # (batch, seq)
        positions = (attention.cumsum(1) - 1).clamp(min=0)
        longest = int(positions.max())
        limit = int(self.bert.config.max_position_embeddings)
        if longest >= limit:
            raise ValueError(
                f"sequence of {longest + 1} tokens exceeds max_position_embeddings {limit}"
            )
        return Packed(
            input_ids=torch.cat(parts_ids, 1),
            attention_mask=attention,
            token_type_ids=torch.cat(parts_type, 1),
            position_ids=positions,
            video_start=video_start,
            video_len=video_len,
            features=features,
            use_features=use_features,
        )

    def _video_ids(
        self, video: torch.Tensor, visual_ids: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Video input -> (joint-vocabulary ids (batch, video_len), features or None)."""
        if video.is_floating_point():
            if video.dim() != 3 or video.shape[2] != self.config.feature_dim:
                raise ValueError(
                    f"clip features must be (batch, clips, {self.config.feature_dim}), "
                    f"got {tuple(video.shape)}"
                )
            if visual_ids is None:
                # No words: the id is never read (features replace it), pad is never masked.
                return torch.full(video.shape[:2], self.config.pad_token_id), video
            if visual_ids.shape != video.shape[:2]:
                raise ValueError(
                    f"visual_ids {tuple(visual_ids.shape)} != clips {tuple(video.shape[:2])}"
                )
            return self._visual_to_joint(visual_ids), video
        if video.dim() != 2:
            raise ValueError(f"visual word ids must be (batch, clips), got {tuple(video.shape)}")
        return self._visual_to_joint(video), None

    def _visual_to_joint(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_visual_words):
            raise ValueError(
                f"visual word ids must be in [0, {self.num_visual_words}), "
                f"got min {int(ids.min())} max {int(ids.max())}"
            )
        return ids.to(self.device, torch.long) + self.visual_offset

    # ------------------------------------------------------------------ forward

    def feature_embeddings(self, features: torch.Tensor) -> torch.Tensor:
        """(..., feature_dim) clip features -> (..., hidden) inputs in word-embedding space."""
        out = self.feature_proj(self.feature_norm(features))
        if self.config.num_classes:
            probs = torch.softmax(
                features.float() @ self.classifier_weight.T + self.classifier_bias, dim=-1
            )  # (..., classes)
            out = out + self.class_mix(probs).to(out.dtype)
        return out

    def class_mix(self, probs: torch.Tensor) -> torch.Tensor:
        """(..., classes) probabilities -> (..., hidden): sharpened mix of class-name embeddings."""
        weights = sharpen(
            probs, top_k=self.config.zero_shot_top_k, temperature=self.config.zero_shot_temperature
        )
        return weights @ self.class_embeddings

    def encode(self, packed: Packed) -> torch.Tensor:
        """Packed inputs -> last hidden states (batch, seq, hidden)."""
        x = self.word_embeddings(packed.input_ids)  # (batch, seq, hidden)
        if packed.features is not None and packed.use_features is not None:
            s, n = packed.video_start, packed.video_len
            clips = self.feature_embeddings(packed.features)  # (batch, video_len, hidden)
            video = torch.where(packed.use_features[..., None], clips.to(x.dtype), x[:, s : s + n])
            x = torch.cat([x[:, :s], video, x[:, s + n :]], 1)
        out = self.bert(
            inputs_embeds=x,
            attention_mask=packed.attention_mask,
            token_type_ids=packed.token_type_ids,
            position_ids=packed.position_ids,
        )
        hidden: torch.Tensor = out.last_hidden_state
        return hidden

    # ------------------------------------------------------------------ heads

    def mlm_logits(self, hidden: torch.Tensor, side: str) -> torch.Tensor:
        """(n, hidden) states at masked positions -> logits over the text vocabulary (n, T) or
        the visual words (n, V): each side predicts only its own kind of token (the paper)."""
        rows = {
            "text": slice(0, self.text_vocab_size),
            "video": slice(self.visual_offset, self.visual_offset + self.num_visual_words),
        }.get(side)
        if rows is None:
            raise ValueError(f"side must be 'text' or 'video', got {side!r}")
        h = self.mlm_transform(hidden)  # (n, hidden)
        return h @ self.word_embeddings.weight[rows].T + self.mlm_bias[rows]

    def align_from_hidden(self, hidden: torch.Tensor) -> torch.Tensor:
        """(batch, seq, hidden) -> (batch,) logit that text and video belong together."""
        out: torch.Tensor = self.align_head(hidden[:, 0]).squeeze(-1)
        return out

    def project(self, pooled: torch.Tensor) -> torch.Tensor:
        """(batch, hidden) -> (batch, projection_dim) unit vectors."""
        return F.normalize(self.projection(pooled).float(), dim=-1)

    # ------------------------------------------------------------------ public API

    def embed_text(
        self, text_ids: torch.Tensor, text_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(batch, len) WordPiece ids (no [CLS]/[SEP]) -> (batch, projection_dim) unit vectors.

        Mean over every attended position, [CLS] and [SEP] included: how all-MiniLM-L6-v2
        makes sentence embeddings, so the untrained model reproduces it.
        """
        packed = self.pack(text_ids, text_mask)
        hidden = self.encode(packed)  # (batch, seq, hidden)
        return self.project(_masked_mean(hidden, packed.attention_mask))

    def embed_video(
        self, video: torch.Tensor, video_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Visual word ids (batch, clips) or clip features (batch, clips, feature_dim) ->
        (batch, projection_dim) unit vectors in the same space as ``embed_text``.

        Mean over the video positions only: [CLS], [>] and [SEP] carry no content of their own
        when there is no text, and measured with MiniLM they pull every video towards the same
        point (a cat clip's cosine to "a truck" 0.18 with them, 0.04 without).
        """
        packed = self.pack(video=video, video_mask=video_mask)
        hidden = self.encode(packed)  # (batch, seq, hidden)
        s, n = packed.video_start, packed.video_len
        return self.project(_masked_mean(hidden[:, s : s + n], packed.attention_mask[:, s : s + n]))

    def align_logits(
        self,
        text_ids: torch.Tensor,
        text_mask: torch.Tensor | None,
        video: torch.Tensor,
        video_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The cross-encoder: (batch,) logits that each text belongs with its video."""
        return self.align_from_hidden(
            self.encode(self.pack(text_ids, text_mask, video, video_mask))
        )


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(batch, seq, hidden), (batch, seq) -> (batch, hidden) mean over mask == 1."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def tokenize(
    tokenizer: Any, texts: Sequence[str], max_tokens: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Texts -> (ids, mask), each (batch, len <= max_tokens), without [CLS]/[SEP]: the model
    adds its own special tokens."""
    batch = tokenizer(
        list(texts),
        add_special_tokens=False,
        truncation=True,
        max_length=max_tokens,
        padding=True,
        return_tensors="pt",
    )
    return batch["input_ids"], batch["attention_mask"]


# ---------------------------------------------------------------------- zero-shot start


def sharpen(probs: torch.Tensor, *, top_k: int, temperature: float) -> torch.Tensor:
    """Keep each row's top_k classes, flatten by temperature (p ** (1/T)), renormalise.

    The torch twin of ``videobert.bridge.sharpen``: the same settings mean the same thing.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    k = min(top_k, probs.shape[-1])
    values, idx = probs.topk(k, dim=-1)
    kept = values.clamp_min(1e-12) ** (1.0 / temperature)
    return torch.zeros_like(probs).scatter(-1, idx, kept / kept.sum(-1, keepdim=True))


def class_name_token_ids(tokenizer: Any, names: Sequence[str]) -> list[list[int]]:
    """Each class name's WordPiece ids (no special tokens)."""
    ids = tokenizer(list(names), add_special_tokens=False)["input_ids"]
    empty = [n for n, i in zip(names, ids, strict=True) if not i]
    if empty:
        raise ValueError(f"class names with no word pieces: {empty[:5]}")
    return [list(i) for i in ids]


def class_name_embeddings(
    word_embeddings: torch.Tensor, token_ids: Sequence[Sequence[int]]
) -> torch.Tensor:
    """(vocab, hidden) word embeddings -> (classes, hidden): each class name's mean word piece."""
    return torch.stack(
        [word_embeddings[torch.tensor(list(ids), dtype=torch.long)].mean(0) for ids in token_ids]
    )


def classifier_probs(
    features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """(n, feature_dim) -> (n, classes): the frame encoder's class probabilities."""
    return torch.softmax(features.float() @ weight.float().T + bias.float(), dim=-1)


@torch.no_grad()
def init_zero_shot(
    model: VideoBert,
    *,
    class_embeddings: torch.Tensor,
    classifier_weight: torch.Tensor,
    classifier_bias: torch.Tensor,
    word_class_probs: torch.Tensor | None = None,
) -> None:
    """Make video inputs read like short descriptions before any training (VIDEOBERT.md item 5).

    class_embeddings (classes, hidden): ``class_name_embeddings`` of the class names.
    classifier_weight / bias (classes, feature_dim) / (classes,): the frame encoder's classifier
    (EfficientNet-Lite0's ``_fc``); a clip's continuous input becomes the sharpened mix of class
    embeddings under its class probabilities (plus ``feature_proj``, zero until trained).
    word_class_probs (visual_words, classes): each visual word's class probabilities (e.g.
    ``classifier_probs`` of the codebook centroids); its input embedding becomes the same mix.
    """
    C, H, Fd = model.config.num_classes, model.hidden_size, model.config.feature_dim
    shapes = {
        "class_embeddings": (tuple(class_embeddings.shape), (C, H)),
        "classifier_weight": (tuple(classifier_weight.shape), (C, Fd)),
        "classifier_bias": (tuple(classifier_bias.shape), (C,)),
    }
    if word_class_probs is not None:
        shapes["word_class_probs"] = (tuple(word_class_probs.shape), (model.num_visual_words, C))
    for name, (got, want) in shapes.items():
        if got != want:
            raise ValueError(f"{name} has shape {got}, expected {want}")
    model.class_embeddings.copy_(class_embeddings)
    model.classifier_weight.copy_(classifier_weight)
    model.classifier_bias.copy_(classifier_bias)
    if word_class_probs is not None:
        rows = slice(model.visual_offset, model.visual_offset + model.num_visual_words)
        mix = model.class_mix(word_class_probs.to(model.device).float())
        model.word_embeddings.weight[rows] = mix.to(model.word_embeddings.weight.dtype)


def zero_shot_model(
    config: VideoBertConfig,
    *,
    tokenizer: Any,
    class_names: Sequence[str],
    classifier_weight: torch.Tensor,
    classifier_bias: torch.Tensor,
    codebook_centroids: torch.Tensor,
) -> VideoBert:
    """A ready-to-embed untrained VideoBERT: backbone + vocabulary + zero-shot inputs.

    Each visual word's class probabilities are the classifier's on its centroid, even for
    ``kmeans.imagenet_codebook`` whose words are the classes themselves: the soft mix reaches
    related classes (a cat photo's word "Egyptian Mau" also mixes in tabby and tiger cat), and
    with MiniLM it placed that photo's word at cosine 0.31 to "a cat" where the word's own
    class name alone gave 0.08.
    """
    if len(class_names) != config.num_classes:
        raise ValueError(f"{len(class_names)} class names but num_classes {config.num_classes}")
    model = VideoBert(config, num_visual_words=int(codebook_centroids.shape[0]))
    embeddings = class_name_embeddings(
        model.word_embeddings.weight.detach()[: model.text_vocab_size],
        class_name_token_ids(tokenizer, class_names),
    )
    init_zero_shot(
        model,
        class_embeddings=embeddings,
        classifier_weight=classifier_weight,
        classifier_bias=classifier_bias,
        word_class_probs=classifier_probs(codebook_centroids, classifier_weight, classifier_bias),
    )
    return model.eval()
