"""Training configs shipped with the package; see :func:`stance.config.find_config`."""
