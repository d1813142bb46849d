"""geomloss — GeomLoss's ``SamplesLoss`` computed by libgeomloss (a C library), over ctypes.

A drop-in for ``from geomloss import SamplesLoss`` (and ``ImagesLoss``, ``VolumesLoss``,
``ImagesBarycenter``, ``geomloss.sinkhorn_images.sinkhorn_divergence`` for images and volumes)::

    import torch
    from geomloss import SamplesLoss

    x = torch.rand(1000, 3, requires_grad=True)
    y = torch.rand(2000, 3)
    L = SamplesLoss("sinkhorn", p=2, blur=.05)(x, y)
    L.backward()

NumPy arrays work too (NumPy in, NumPy out). The shared library is found
through the environment variable GEOMLOSS_LIBRARY, else the copy bundled in
this package, else the checkout's dist/lib (see ``geomloss._library``).
"""

from ._abi import VERSION_STRING as __version__
from ._errors import (GeomLossError, GeomLossValueError, GeomLossOptionError, GeomLossMemoryError,
                      GeomLossNotImplementedError, GeomLossInternalError, GeomLossDeviceError,
                      GeomLossCancelledError)
from ._library import LibraryNotFoundError, find_library, library_path, library_version
from .samples_loss import SamplesLoss
from . import ot
from . import sinkhorn_images
from .sinkhorn_images import ImagesLoss, VolumesLoss, ImagesBarycenter

__all__ = [
    "SamplesLoss", "ot", "ImagesLoss", "VolumesLoss", "ImagesBarycenter", "sinkhorn_images",
    "GeomLossError", "GeomLossValueError", "GeomLossOptionError", "GeomLossMemoryError",
    "GeomLossNotImplementedError", "GeomLossInternalError", "GeomLossDeviceError",
    "GeomLossCancelledError", "LibraryNotFoundError",
    "find_library", "library_path", "library_version", "__version__",
]
