"""What every lesson needs: start-up, profiles, devices, data, training, plots, reports.

- ``lesson``: :func:`start_lesson` (seed, device, profile, figure style in one call);
- ``profile``: run profiles and the sizes they set; ``device``: CUDA, MPS or CPU, and seeding;
- ``paths``: data, download and cache folders; ``integrity``: SHA-256 checks;
- ``datasets``: MNIST, Fashion-MNIST and CIFAR-10 from a mirror, ``data/`` or a download;
- ``photos``: real photographs by name; ``checkpoints``: trained models cached with a hash;
- ``training``: mini-batches, ``fit`` and ``evaluate``; ``history``: a run's curves and their plot;
- ``plotting``: image grids and side-by-side panels; ``reporting``: metrics and asserted bounds;
- ``environment``: the check lesson 00 prints.
"""
