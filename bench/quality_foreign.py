"""Foreign parts for held-out clips: pictures nobody on the project tuned on.

The suite and the usual held-out clips are made of scikit-image's pictures, the ones every
threshold was chosen on. These come from OpenCV's samples in Debian's `opencv-doc` (fetched
once by `debian_packages`, like Megamind.avi): a man's head and shoulders, a squirrel on a
branch, a footballer mid-kick, a mandrill's face, and five photographs to put behind them.
`python -m bench quality --held-out SEED --foreign` makes held-out clips of them
(`quality_held_out.held_out`).

The boxes were read off the pictures by eye, before any clip made of them was run: the face
forehead to chin and ear to ear, as the suite's faces; for the others the part pasted is the
subject (the squirrel ear to tail and paw, the footballer hand to boot).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from bench import debian_packages

PACKAGE = "opencv-doc"
_FOLDER = "usr/share/doc/opencv-doc/"
# Sprite names are "opencv:<name>", backgrounds "photo:opencv:<name>" or "pan:opencv:<name>".
PREFIX = "opencv:"


@dataclass(frozen=True)
class Picture:
    file: str
    # The part pasted (left, top, right, bottom in the picture's pixels); None: all of it.
    region: tuple[int, int, int, int] | None = None
    # The face's box (x, y, w, h in the picture's pixels); None: the part pasted is the subject.
    face: tuple[int, int, int, int] | None = None


SPRITES = {
    "portrait": Picture("opencv4/html/face_swapped.jpg", None, (105, 52, 130, 162)),
    "squirrel": Picture("examples/data/squirrel_cls.jpg", (130, 100, 365, 355)),
    "footballer": Picture("examples/data/messi5.jpg", (65, 55, 465, 340)),
    "mandrill": Picture("examples/data/baboon.jpg"),
}
PHOTOS = {
    "building": "examples/data/building.jpg",
    "starry": "examples/data/starry_night.jpg",
    "fruits": "examples/data/fruits.jpg",
    "home": "examples/data/home.jpg",
    "aero": "examples/data/aero3.jpg",
}


def _files() -> list[str]:
    return [*(p.file for p in SPRITES.values()), *PHOTOS.values()]


def fetch_pictures() -> list[str]:
    """Fetch the pictures where not yet done; what could not be fetched, one line each."""
    return debian_packages.fetch((PACKAGE, _FOLDER + file) for file in _files())


@cache
def picture(file: str) -> NDArray[np.uint8]:
    """One of the pictures (RGB), once fetched."""
    path = debian_packages.packaged(PACKAGE, _FOLDER + file)
    if not path.exists():
        raise FileNotFoundError(f"{path} is not fetched: quality_foreign.fetch_pictures() does")
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), np.uint8)


def photo(name: str) -> NDArray[np.uint8]:
    """One of `PHOTOS`, once fetched."""
    return picture(PHOTOS[name])
