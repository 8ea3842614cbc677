"""Training and measuring the demo models' weights (never imported by ``import fooocus_widgets``).

The demo models are tiny SDXL-architecture models trained on a synthetic world of coloured
shapes (`world`). ``python -m fooocus_widgets.demo.train`` rebuilds every weight from a seed on
a CPU (the VAE's are written by hand, `vae_weights`; the UNets and LoRAs are trained); the
results ship in ``weights/`` and ``python -m fooocus_widgets demo-models DIR`` assembles
checkpoints and LoRAs from them (`fooocus_widgets.engine.demo`). `measure` judges generated
pictures (colour, shape, position, saturation, fine detail).
"""
