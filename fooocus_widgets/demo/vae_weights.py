"""The demo VAE's weights, written down rather than trained: an exact 8x average-pool autoencoder.

A VAE trained from scratch on a CPU learned flat colours too slowly (15/255 mean error after
1000 steps), so the demo VAE is built by hand inside diffusers' `AutoencoderKL` layers:

* the encoder's convolutions copy the picture's RGB into channels 0-2 and its negation into
  channels 3-5; its three downsamplers average 2x2 blocks, so latent channels 0-2 are the mean
  colour of each 8x8 block (channel 3 is zero);
* the decoder copies them back and its upsamplers repeat each value (nearest neighbour);
* every residual branch and attention output is zero, so those blocks pass their input on;
* the remaining channels hold large constants, half +`CONSTANT` and half -`CONSTANT`. The only
  group norms on the path (``conv_norm_out``, one group) then see mean zero and a spread set by
  the constants, and pass the colours on scaled by a known factor; an offset of `OFFSET` keeps
  the SiLU after them in its linear range, and the output convolution takes (x - (-x)) / 2 so
  the offset cancels.

Flat colours and vertical gradients come back exactly; edges come back as 8x8 blocks. Mean error
on held-back 256x256 scenes: about 2/255 (`train_vae.reconstruction_error`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["CONSTANT", "OFFSET", "build_vae"]

CONSTANT = 100.0
OFFSET = 10.0
_COLOUR = 3  # RGB channels


def _layout(channels: int) -> torch.Tensor:
    """Per-channel constants: 0 for the 6 colour channels, then +C and -C alternating."""
    values = torch.zeros(channels)
    for i in range(2 * _COLOUR, channels):
        values[i] = CONSTANT if (i - 2 * _COLOUR) % 2 == 0 else -CONSTANT
    return values


def _colour_in(conv: torch.nn.Conv2d, sources: int = _COLOUR) -> None:
    """`conv` (3x3 or 1x1) puts input channels 0..2 in 0..2, their negation in 3..5, constants after.

    With `sources` 6 (a 6-colour-channel input) channels 0..5 are copied as they are.
    """
    with torch.no_grad():
        conv.weight.zero_()
        centre = conv.weight.shape[-1] // 2
        for c in range(_COLOUR):
            conv.weight[c, c, centre, centre] = 1.0
            if sources == _COLOUR:
                conv.weight[_COLOUR + c, c, centre, centre] = -1.0
            else:
                conv.weight[_COLOUR + c, _COLOUR + c, centre, centre] = 1.0
        assert conv.bias is not None
        conv.bias.copy_(_layout(conv.out_channels))


def _identity(conv: torch.nn.Conv2d, *, average_2x2: bool = False) -> None:
    """`conv` passes each channel on (or averages 2x2 blocks, for a stride-2 downsampler)."""
    with torch.no_grad():
        conv.weight.zero_()
        assert conv.bias is not None
        conv.bias.zero_()
        centre = conv.weight.shape[-1] // 2
        for k in range(conv.out_channels):
            if average_2x2:
                conv.weight[k, k, 0:2, 0:2] = 0.25
            else:
                conv.weight[k, k, centre, centre] = 1.0


def _norm_out(norm: torch.nn.GroupNorm) -> None:
    """Undo the one-group norm's scaling for the colour channels, offset them, drop the constants."""
    channels = norm.num_channels
    spread = CONSTANT * math.sqrt((channels - 2 * _COLOUR) / channels)
    with torch.no_grad():
        norm.weight.zero_()
        norm.bias.zero_()
        norm.weight[: 2 * _COLOUR] = spread
        norm.bias[: 2 * _COLOUR] = OFFSET


def _colour_out(conv: torch.nn.Conv2d) -> None:
    """Output channel c = (channel c - channel 3+c) / 2: the colour, with the offset cancelled."""
    with torch.no_grad():
        conv.weight.zero_()
        assert conv.bias is not None
        conv.bias.zero_()
        centre = conv.weight.shape[-1] // 2
        for c in range(_COLOUR):
            conv.weight[c, c, centre, centre] = 0.5
            conv.weight[c, _COLOUR + c, centre, centre] = -0.5


def _pass_through(module: torch.nn.Module) -> None:
    """Residual blocks and attention add nothing: zero their branches' weights."""
    from diffusers.models.attention_processor import Attention
    from diffusers.models.resnet import ResnetBlock2D

    block: Any
    layers: list[Any]
    for block in module.modules():
        if isinstance(block, ResnetBlock2D):
            layers = [block.conv1, block.conv2]
            if block.conv_shortcut is not None:
                _colour_in(block.conv_shortcut, sources=2 * _COLOUR)
        elif isinstance(block, Attention):
            layers = [block.to_q, block.to_k, block.to_v, block.to_out[0]]
        else:
            continue
        with torch.no_grad():
            for layer in layers:
                layer.weight.zero_()
                if layer.bias is not None:
                    layer.bias.zero_()


def build_vae(config: dict[str, Any]) -> Any:
    """An `AutoencoderKL` with `config` (the demo's) and the hand-written weights."""
    from diffusers import AutoencoderKL

    vae: Any = AutoencoderKL(**config)
    encoder, decoder = vae.encoder, vae.decoder
    _pass_through(vae)
    _colour_in(encoder.conv_in)
    for block in encoder.down_blocks:
        for down in block.downsamplers or []:
            _identity(down.conv, average_2x2=True)
    _norm_out(encoder.conv_norm_out)
    with torch.no_grad():
        encoder.conv_out.weight.zero_()
        encoder.conv_out.bias.zero_()
        centre = encoder.conv_out.weight.shape[-1] // 2
        for c in range(_COLOUR):
            encoder.conv_out.weight[c, c, centre, centre] = 0.5
            encoder.conv_out.weight[c, _COLOUR + c, centre, centre] = -0.5
        latent = config["latent_channels"]
        encoder.conv_out.bias[latent:] = -20.0  # log-variance: (almost) no sampling noise
    _identity(vae.quant_conv)
    _identity(vae.post_quant_conv)
    _colour_in(decoder.conv_in)
    for block in decoder.up_blocks:
        for up in block.upsamplers or []:
            _identity(up.conv)
    _norm_out(decoder.conv_norm_out)
    _colour_out(decoder.conv_out)
    return vae.eval().requires_grad_(False)
