"""The generation engine: diffusers only, no UI imports.

Modules: `checkpoints` (what a file is, read without unpickling), `tokenizers` (SDXL's CLIP
tokenizers from shipped data), `convert` (diffusers -> original single-file layout), `models`
(loading, switching and releasing base models and LoRAs), `lora_compat` (whether a LoRA's
modules and shapes fit the loaded model), `memory` (measuring and giving memory back),
`samplers`, `prompts` (long-prompt encoding), `preview` (cheap latent previews), `run` (one plan,
image by image), `demo` (the embedded demo models). Importing this package imports nothing
heavy; each module imports torch itself.
"""
