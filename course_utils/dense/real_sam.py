"""Meta's Segment Anything, used only when its package and a local checkpoint are present.

Nothing is ever downloaded: the checkpoint path comes from the ``SAM_CHECKPOINT``
environment variable or an argument.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

SAM_CHECKPOINT_ENV = "SAM_CHECKPOINT"


# -- the real SAM --------------------------------------------------------------------
def find_sam_checkpoint(env: str = SAM_CHECKPOINT_ENV) -> Path | None:
    """The local SAM checkpoint named by the environment variable ``env``, if it exists."""
    value = os.environ.get(env, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.exists() else None


def load_real_sam(checkpoint: Path | None = None, device: str = "cpu") -> tuple[str, Any] | None:
    """Meta's SAM from a local checkpoint, without any download, or ``None``.

    A ``.pth`` file is loaded with the ``segment_anything`` package (model type from its
    name: ``vit_b``, ``vit_l`` or ``vit_h``) and returned as ``("segment_anything",
    SamPredictor)``; a folder in the Hugging Face layout with ``transformers`` as
    ``("transformers", (SamModel, SamProcessor))``. ``None`` when the checkpoint or the
    package is missing.
    """
    checkpoint = checkpoint or find_sam_checkpoint()
    if checkpoint is None:
        return None
    if checkpoint.is_file() and importlib.util.find_spec("segment_anything") is not None:
        # optional packages, imported only when a checkpoint asks for them
        from segment_anything import SamPredictor, sam_model_registry

        kind = next((k for k in ("vit_h", "vit_l", "vit_b") if k in checkpoint.name), "vit_b")
        sam = sam_model_registry[kind](checkpoint=str(checkpoint)).to(device).eval()
        return "segment_anything", SamPredictor(sam)
    if checkpoint.is_dir() and importlib.util.find_spec("transformers") is not None:
        from transformers import SamModel, SamProcessor

        model = SamModel.from_pretrained(str(checkpoint), local_files_only=True).to(device).eval()
        processor = SamProcessor.from_pretrained(str(checkpoint), local_files_only=True)
        return "transformers", (model, processor)
    return None
