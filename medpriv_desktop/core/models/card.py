"""The model card: one strict, versioned schema shared by ``training`` (which writes it) and the app (which reads it).

A bundle is a folder holding ``model.onnx``, ``model_card.json`` and optionally ``tokenizer.json``, ``LICENSE`` and
``README.md`` (the MONAI Bundle idea). Unknown fields are refused everywhere (``extra="forbid"``) so that a typo in a
card fails loudly instead of being ignored. ``resources/schema/model_card.schema.json`` is exported from this module
(``medpriv models schema``) and a test keeps the two equal.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from medpriv_desktop.core.models.manifest import plain_name_problem

SCHEMA_VERSION = 1
CARD_FILE = "model_card.json"
_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
#: Documents the plain-name rule in the JSON schema; :func:`_plain_file_name` is the full check.
_PLAIN_NAME_PATTERN = r"^[^/\\:\x00-\x1f\x7f]+$"


def _plain_file_name(v: object) -> object:
    """A card field that names a file must be a plain name inside the bundle (no separators, no '..', not absolute).

    Runs before pydantic's own checks so that the message says what is wrong rather than quoting the pattern.
    """
    if not isinstance(v, str):
        return v  # the type check reports it
    problem = plain_name_problem(v)
    if problem is not None:
        raise ValueError(f"must be a plain file name inside the bundle: {v!r} {problem}")
    if v == CARD_FILE:
        raise ValueError(f"must not name the card file {CARD_FILE}")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class Task(str, Enum):
    """What a model does; decides which input block the card must carry."""

    SEGMENTATION = "segmentation"
    REPORT_CLASSIFICATION = "report-classification"
    PHI_NER = "phi-ner"
    EMBEDDING = "embedding"
    CAUSAL_LM = "causal-lm"


class ReferenceRange(_Strict):
    """A plausible adult volume range for a structure, from published norms (not from training data)."""

    min_ml: float = Field(ge=0)
    max_ml: float = Field(gt=0)
    source: str = Field(min_length=3, description="citation of the published norm")

    @model_validator(mode="after")
    def _ordered(self) -> ReferenceRange:
        if self.max_ml <= self.min_ml:
            raise ValueError("max_ml must be larger than min_ml")
        return self


class Label(_Strict):
    """One output class: a voxel value of a label map, or one output of a text model."""

    value: int = Field(ge=0, description="voxel value (segmentation) or output index (text models)")
    name: str = Field(min_length=1, description="stable machine name, exactly as written in CSV columns")
    title: str | None = Field(default=None, description="name for people; defaults to name")
    color: tuple[int, int, int] | None = Field(default=None, description="RGB 0-255")
    supported: bool = Field(default=True, description="False when the training data cannot support this label")
    unsupported_reason: str | None = None
    threshold: float | None = Field(default=None, ge=0, le=1, description="decision threshold (text classifiers)")
    reference_volume: ReferenceRange | None = None
    volume_note: str | None = Field(default=None, description="segmentation: why no adult volume range is checked "
                                                               "for this structure (shown by QC)")
    keep_largest_component: bool = False
    expected_components: int | None = Field(default=None, ge=1)
    hipaa_category: str | None = None
    i2b2_category: str | None = None
    mappings: dict[str, list[str]] = Field(
        default_factory=dict, description="names of this label in other label sets, e.g. {'totalsegmentator': [...]}"
    )

    @field_validator("color")
    @classmethod
    def _rgb(cls, v: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        if v is not None and any(not 0 <= c <= 255 for c in v):
            raise ValueError("colour components must be 0-255")
        return v

    @property
    def display(self) -> str:
        """Title if set, else the machine name."""
        return self.title or self.name


class IntensityNormalization(_Strict):
    """How raw intensities become network input: CT clip + z-score, MR percentile clip + z-score, or none."""

    kind: Literal["ct-clip-zscore", "percentile-zscore", "zscore", "none"]
    clip_min: float | None = None
    clip_max: float | None = None
    mean: float | None = None
    std: float | None = Field(default=None, gt=0)
    percentile_low: float | None = Field(default=None, ge=0, le=100)
    percentile_high: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _complete(self) -> IntensityNormalization:
        if self.kind == "ct-clip-zscore" and None in (self.clip_min, self.clip_max, self.mean, self.std):
            raise ValueError("ct-clip-zscore needs clip_min, clip_max, mean and std")
        if self.kind == "percentile-zscore" and None in (self.percentile_low, self.percentile_high):
            raise ValueError("percentile-zscore needs percentile_low and percentile_high")
        return self


class ImageInput(_Strict):
    """Input contract of a 3D segmentation model.

    ``mirror_axes`` says along which model-space axes the model was trained on mirrored images (mirroring
    augmentation, with left/right labels swapped, see :attr:`Outputs.label_pairs`). Only those axes are flipped for
    test-time augmentation and for the flipped second opinion of QC: a model that never saw an upside-down or
    mirrored body does not recognise one, so a flip along any other axis measures nothing but that. Left out (None),
    all three axes are flipped, as before the field existed.
    """

    modalities: list[Literal["CT", "MR"]] = Field(min_length=1)
    channels: int = Field(default=1, ge=1)
    spacing_mm: tuple[float, float, float]
    orientation: str = Field(default="RAS", pattern=r"^[RLAPSI]{3}$", description="axis codes of the array axes")
    intensity: dict[str, IntensityNormalization] = Field(description="normalisation per modality, keys in modalities")
    patch_size: tuple[int, int, int]
    overlap: float = Field(default=0.5, ge=0, lt=1)
    batch_size: int = Field(default=1, ge=1)
    input_name: str = "image"
    divisible_by: int = Field(default=16, ge=1, description="spatial size the network needs")
    mirror_axes: list[int] | None = Field(
        default=None, description="model-space axes (0-2, in the order of `orientation`) along which the model was "
                                  "trained on mirrored images; test-time flips and the flipped QC opinion use only "
                                  "these. None: not stated (all three are flipped); []: none")

    @model_validator(mode="after")
    def _per_modality(self) -> ImageInput:
        missing = [m for m in self.modalities if m not in self.intensity]
        if missing:
            raise ValueError(f"intensity normalisation missing for {missing}")
        if self.mirror_axes is not None and (len(set(self.mirror_axes)) != len(self.mirror_axes)
                                             or any(not 0 <= a <= 2 for a in self.mirror_axes)):
            raise ValueError(f"mirror_axes must be distinct axes 0-2, not {self.mirror_axes}")
        return self

    @property
    def left_right_axis(self) -> int | None:
        """Model-space axis running between the patient's left and right (the 'R' or 'L' of ``orientation``)."""
        for axis, code in enumerate(self.orientation):
            if code in "RL":
                return axis
        return None


class RuleFeatureInput(_Strict):
    """The rule labeler's per-label outputs fed to a report classifier as an extra ONNX input
    (``medpriv_desktop/core/reports/rule_features.py``); the runtime refuses a model trained on other rules."""

    input_name: str = Field(default="rule_features", pattern=r"^[A-Za-z_][A-Za-z0-9_.:]*$")
    label_set: str = Field(min_length=1, description="rule labeler label set whose outputs are fed")
    encoding: Literal["status-v1"] = Field(default="status-v1", description="positive, uncertain, negated per label")
    labeler_version: str = Field(min_length=1, description="LABELER_VERSION the model was trained with")
    width: int = Field(ge=1, description="values per report")


class TextInput(_Strict):
    """Input contract of a text model (tokenizer and window)."""

    tokenizer_file: str = Field(default="tokenizer.json", pattern=_PLAIN_NAME_PATTERN,
                                description="plain file name inside the bundle")
    max_tokens: int = Field(ge=8, le=8192)
    stride: int = Field(default=0, ge=0, description="token overlap between chunks of a long text")
    lowercase: bool = False
    input_names: list[str] = Field(default_factory=lambda: ["input_ids", "attention_mask"])
    sections: list[str] = Field(default_factory=list, description="report sections used, e.g. findings, impression")
    rule_features: RuleFeatureInput | None = Field(default=None, description="rule labeler outputs as an extra input")

    @field_validator("tokenizer_file", mode="before")
    @classmethod
    def _tokenizer_plain(cls, v: object) -> object:
        return _plain_file_name(v)


class Generation(_Strict):
    """Decoding facts a causal LM needs at run time."""

    bos_token_id: int | None = None
    eos_token_id: int | None = None
    pad_token_id: int | None = None
    max_new_tokens: int = Field(default=256, ge=1)
    uses_past_key_values: bool = False


class Quantization(_Strict):
    """How the weights were quantised, so the runtime can pick kernels that give the same outputs on every CPU."""

    weights: Literal["int8"] = "int8"
    per_channel: bool = False
    reduce_range: bool = Field(default=False, description="7-bit weights: ONNX Runtime's default x64 int8 kernels "
                                                          "are then exact on every CPU (AVX2 and VNNI alike)")


class Outputs(_Strict):
    """What the model produces.

    ``label_pairs`` (segmentation, optional) lists left/right structures by label value, each pair once and no label
    in two pairs: ``[[2, 3], [8, 9], [11, 12]]`` for the lungs, kidneys and adrenal glands of the torso models. An
    image mirrored along the patient's left-right axis (``image_input.orientation``'s R/L axis) shows the left
    kidney where the right one was, so a pass on a mirrored image is compared or averaged only after its paired
    output channels are swapped. A card without pairs swaps nothing.
    """

    label_set: str | None = Field(default=None, description="e.g. ChestX-ray14, CheXpert, CT-RATE, medpriv-phantom-v1")
    labels: list[Label] = Field(default_factory=list)
    activation: Literal["softmax", "sigmoid", "none"] = "softmax"
    output_name: str = "logits"
    embedding_dim: int | None = Field(default=None, ge=1)
    pooling: Literal["mean", "cls"] | None = None
    fill_holes: bool = False
    generation: Generation | None = None
    label_pairs: list[tuple[int, int]] = Field(
        default_factory=list, description="left/right pairs by label value, e.g. [[2, 3], [8, 9]]: a mirror image "
                                          "of the body swaps them (test-time flips and flipped QC swap the pair's "
                                          "output channels)")

    @model_validator(mode="after")
    def _unique(self) -> Outputs:
        values = [lb.value for lb in self.labels]
        names = [lb.name for lb in self.labels]
        if len(set(values)) != len(values) or len(set(names)) != len(names):
            raise ValueError("label values and names must be unique")
        seen: set[int] = set()
        for a, b in self.label_pairs:
            if a == b:
                raise ValueError(f"label_pairs: label {a} is paired with itself")
            missing = [v for v in (a, b) if v not in values]
            if missing:
                raise ValueError(f"label_pairs: no label with value {missing[0]}")
            if 0 in (a, b):
                raise ValueError("label_pairs: the background (0) has no mirror partner")
            twice = [v for v in (a, b) if v in seen]
            if twice:
                raise ValueError(f"label_pairs: label {twice[0]} is in two pairs")
            seen.update((a, b))
        return self


class Dataset(_Strict):
    """One data source the model was trained on."""

    name: str
    license: str
    n: int | None = Field(default=None, ge=0, description="number of cases / notes / reports used")
    synthetic: bool = False
    citation: str | None = None
    split: str | None = None


class TrainingInfo(_Strict):
    """How the model was made, precisely enough to make it again."""

    datasets: list[Dataset] = Field(min_length=1)
    command: str
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}")
    code_revision: str | None = None
    teacher_id: str | None = None
    seed: int | None = None
    hardware: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)


class Privacy(_Strict):
    """Differential-privacy guarantee of the weights (DP-SGD)."""

    mechanism: Literal["DP-SGD"] = "DP-SGD"
    epsilon: float | None = Field(description="None means no formal guarantee (epsilon = infinity)")
    delta: float = Field(ge=0, lt=1)
    accountant: Literal["prv", "rdp", "gdp"]
    noise_multiplier: float = Field(ge=0)
    max_grad_norm: float = Field(gt=0)
    sampling_rate: float = Field(gt=0, le=1)
    epochs: float = Field(gt=0)
    steps: int | None = Field(default=None, ge=0)
    n_train: int = Field(ge=1)
    covers: str = Field(default="the model weights (LoRA parameters and classifier head)")
    target_epsilon_reached: bool = True
    rationale: str | None = Field(default=None, description="why this epsilon was chosen for deployment")
    selection: str | None = Field(default=None, description="how the recipe and the shipped variant were chosen, and "
                                                            "whether that choice is inside epsilon")


#: A student whose card shows a Dice ratio to its teacher below this is not offered as the default.
MIN_STUDENT_DICE_RATIO = 0.9


class Metric(_Strict):
    """One measured number."""

    name: str
    value: float
    split: str
    label: str | None = None
    n: int | None = None


class Metrics(_Strict):
    """Measured quality and cost."""

    values: list[Metric] = Field(default_factory=list)
    parameters: int | None = Field(default=None, ge=0)
    flops: float | None = Field(default=None, ge=0)
    cpu_latency_ms: float | None = Field(default=None, ge=0)
    latency_note: str | None = None

    def get(self, name: str, label: str | None = None) -> float | None:
        """First value with this name (and label), or None."""
        for m in self.values:
            if m.name == name and m.label == label:
                return m.value
        return None


class ModelCard(_Strict):
    """The card of one model bundle (``model_card.json``)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(description="stable kebab-case id, never translated")
    title: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+([.-][0-9A-Za-z.]+)?$")
    task: Task
    description: str = ""
    intended_use: str
    not_for_diagnostic_use: bool = True
    license: str = Field(description="licence of the weights")
    authors: list[str] = Field(default_factory=list)
    model_file: str = Field(default="model.onnx", pattern=_PLAIN_NAME_PATTERN,
                            description="plain file name inside the bundle")
    sha256: str
    size_bytes: int | None = Field(default=None, ge=0)
    family: str | None = Field(default=None, description="models of one family can stand in for each other")
    role: Literal["teacher", "student", "single"] = "single"
    width_fraction: float | None = Field(default=None, gt=0, le=1)
    image_input: ImageInput | None = None
    text_input: TextInput | None = None
    outputs: Outputs
    quantization: Quantization | None = Field(default=None, description="None: float weights, or an int8 model "
                                               "exported before this field existed (run with exact kernels)")
    training: TrainingInfo
    privacy: Privacy | None = None
    metrics: Metrics = Field(default_factory=Metrics)
    limitations: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _kebab(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError("id must be kebab-case: lower-case letters, digits and single hyphens")
        return v

    @field_validator("model_file", mode="before")
    @classmethod
    def _model_file_plain(cls, v: object) -> object:
        return _plain_file_name(v)

    @field_validator("sha256")
    @classmethod
    def _sha(cls, v: str) -> str:
        if not _SHA_RE.match(v):
            raise ValueError("sha256 must be 64 lower-case hex digits")
        return v

    @model_validator(mode="after")
    def _task_blocks(self) -> ModelCard:
        if self.task is Task.SEGMENTATION:
            if self.image_input is None:
                raise ValueError("a segmentation card needs image_input")
            if not self.outputs.labels or self.outputs.labels[0].value != 0:
                raise ValueError("a segmentation card needs labels starting with background = 0")
        else:
            if self.text_input is None:
                raise ValueError(f"a {self.task.value} card needs text_input")
        if self.task is Task.REPORT_CLASSIFICATION:
            if not self.outputs.labels:
                raise ValueError("a report-classification card needs labels")
            missing = [lb.name for lb in self.outputs.labels if lb.supported and lb.threshold is None]
            if missing:
                raise ValueError(f"supported labels need a threshold: {missing}")
        if self.task is Task.EMBEDDING and self.outputs.embedding_dim is None:
            raise ValueError("an embedding card needs outputs.embedding_dim")
        if self.task is Task.CAUSAL_LM and self.outputs.generation is None:
            raise ValueError("a causal-lm card needs outputs.generation")
        return self

    @property
    def preferred_student(self) -> bool:
        """True for a student that may be the default model of its task.

        A student is the fast default only while its card does not show it losing more than 10% of its teacher's
        Dice (``dice_ratio_to_teacher`` >= 0.9, or no ratio reported). A student that fell below that is still
        listed and usable, but the teacher (or a single model) is offered first.
        """
        if self.role != "student":
            return False
        ratio = self.metrics.get("dice_ratio_to_teacher")
        return ratio is None or ratio >= MIN_STUDENT_DICE_RATIO

    @property
    def default_rank(self) -> int:
        """Order in which models of one task are offered as the default: a student that kept its teacher's accuracy
        (0, the fast choice), a single model (1), a teacher (2), a student that did not (3)."""
        if self.role == "student":
            return 0 if self.preferred_student else 3
        return {"teacher": 2}.get(self.role, 1)

    @property
    def needs_exact_int8_kernels(self) -> bool:
        """True unless the card says its int8 weights use 7 bits: 8-bit weights saturate in the default int8 kernel
        of CPUs without VNNI, so they run with ONNX Runtime's exact (slower) kernels to give the same outputs on
        every CPU; float models are unaffected either way."""
        return not (self.quantization is not None and self.quantization.reduce_range)

    @property
    def modalities(self) -> list[str]:
        """Imaging modalities the model accepts (empty for text models)."""
        return list(self.image_input.modalities) if self.image_input else []

    def label_by_value(self) -> dict[int, Label]:
        """Labels keyed by voxel value / output index."""
        return {lb.value: lb for lb in self.outputs.labels}


def card_json_schema() -> dict[str, Any]:
    """The JSON schema of :class:`ModelCard` (exported to ``resources/schema/model_card.schema.json``)."""
    schema = ModelCard.model_json_schema()
    schema["$id"] = f"https://medpriv.invalid/schema/model_card.v{SCHEMA_VERSION}.json"
    return schema
