"""Lessons 17-18: generative models, diffusion and flow matching.

- ``density_2d``: 2-D toy densities, GAN snapshots and decision regions (17);
- ``sample_quality``: a digit classifier that judges samples, and a Frechet distance (17-18);
- ``denoisers``: the time-conditioned U-Net and image scalings (18);
- ``diffusion``: noise schedules, DDPM and flow-matching losses and samplers, guidance (18).
"""
