"""The model part of the core: the stance classifier (``classifier``), the encoder heads
(``modeling``), the base encoders (``encoders``), a model folder's files and checksums (``folder``)
and temperature calibration (``calibration``). Importing the package loads nothing heavy; torch
comes with ``classifier``, ``modeling`` and ``calibration``."""
