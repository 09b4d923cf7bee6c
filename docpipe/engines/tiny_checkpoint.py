"""A tiny random Gemma 4 (config, tokenizer, processor, weights) built in code.

Its answers are noise: it exists so that an install can be smoke-tested offline, and so that the
tests run the real transformers Gemma 4 classes on CPU. It is saved with `save_pretrained` and
loaded back with `from_pretrained`, exactly like real weights.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

TINY_VERSION = 2  # bump when the recipe changes, so cached copies are rebuilt (2: the released chat format)

SPECIAL_TOKENS = (
    "<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<|turn>", "<turn|>",
    "<|image>", "<image|>", "<|image|>", "<|audio>", "<audio|>", "<|audio|>", "<|video|>",
    "<|channel>", "<channel|>",
)

# Gemma 4's chat format as the released template (what vLLM and a real checkpoint's processor
# apply) writes it, reduced to what docpipe sends, written here from these facts: a system turn
# (`<|turn>system\n...<turn|>` right after <bos>); each image as "\n\n<|image|>\n\n"; with thinking
# off, the generation prompt ends with an empty thought channel.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}{{ '\\n\\n<|image|>\\n\\n' }}{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<turn|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|turn>model\n<|channel>thought\n<channel|>{% endif %}"
)


def tiny_model_dir(cache_root: Path) -> Path:
    return cache_root / f"tiny-random-gemma4-v{TINY_VERSION}"


def build_processor(vocab_size: int | None = None, special_ids: dict[str, int] | None = None):
    """A Gemma4Processor with a byte-level tokenizer built in code.

    Without arguments: the special tokens first, then the 256 byte symbols (the tiny model's
    vocabulary). With `vocab_size` and `special_ids` (token -> id, e.g. Gemma 4's real
    `<|image|>` = 258880): a full-size vocabulary with those ids, the byte symbols next, and
    placeholder tokens everywhere else, so a full-size config's token ids line up.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        Gemma4AudioFeatureExtractor,
        Gemma4ImageProcessor,
        Gemma4Processor,
        Gemma4VideoProcessor,
        PreTrainedTokenizerFast,
    )

    vocab = dict(special_ids or {})
    taken = set(vocab.values())
    next_id = 0

    def free_id() -> int:
        nonlocal next_id
        while next_id in taken:
            next_id += 1
        taken.add(next_id)
        return next_id

    for token in SPECIAL_TOKENS:
        if token not in vocab:
            vocab[token] = free_id()
    for symbol in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[symbol] = free_id()
    while vocab_size and len(vocab) < vocab_size:
        vocab[f"<unused{len(vocab)}>"] = free_id()
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
        unk_token="<unk>", mask_token="<mask>", padding_side="left",
        extra_special_tokens={
            "image_token": "<|image|>", "boi_token": "<|image>", "eoi_token": "<image|>",
            "audio_token": "<|audio|>", "boa_token": "<|audio>", "eoa_token": "<audio|>",
            "sot_token": "<|turn>", "eot_token": "<turn|>",
        },
    )
    return Gemma4Processor(
        feature_extractor=Gemma4AudioFeatureExtractor(),
        image_processor=Gemma4ImageProcessor(max_soft_tokens=280),
        tokenizer=tokenizer,
        video_processor=Gemma4VideoProcessor(),
        chat_template=CHAT_TEMPLATE,
        image_seq_length=280,
    )


def special_ids_of(config) -> dict[str, int]:
    """The token ids a released Gemma 4 config expects, by token."""
    text = config.get_text_config()
    eos = text.eos_token_id[0] if isinstance(text.eos_token_id, list) else text.eos_token_id
    return {
        "<pad>": text.pad_token_id, "<eos>": eos, "<bos>": text.bos_token_id,
        "<|image|>": config.image_token_id, "<|image>": config.boi_token_id, "<image|>": config.eoi_token_id,
        "<|audio|>": config.audio_token_id, "<|audio>": config.boa_token_id,
        "<audio|>": config.eoa_token_index, "<|video|>": config.video_token_id,
    }


def build_tiny_gemma4(target: Path, seed: int = 0) -> Path:
    """Write a tiny random Gemma 4 checkpoint to `target` (atomically) and return it."""
    import torch
    from transformers import Gemma4Config, Gemma4ForConditionalGeneration

    processor = build_processor()
    tokenizer = processor.tokenizer
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    size = len(tokenizer)
    stop = [ids["<eos>"], ids["<turn|>"]]
    config = Gemma4Config(
        text_config={
            "vocab_size": size, "vocab_size_per_layer_input": size, "hidden_size": 64,
            "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 1, "head_dim": 32, "global_head_dim": 32,
            "hidden_size_per_layer_input": 16, "layer_types": ["sliding_attention", "full_attention"],
            "sliding_window": 64, "max_position_embeddings": 8192, "pad_token_id": ids["<pad>"],
            "eos_token_id": stop, "bos_token_id": ids["<bos>"],
        },
        vision_config={
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 16,
        },
        audio_config=None,
        image_token_id=ids["<|image|>"], boi_token_id=ids["<|image>"], eoi_token_id=ids["<image|>"],
        audio_token_id=ids["<|audio|>"], boa_token_id=ids["<|audio>"],
        eoa_token_index=ids["<audio|>"], video_token_id=ids["<|video|>"],
    )
    torch.manual_seed(seed)
    model = Gemma4ForConditionalGeneration(config)
    model.generation_config.eos_token_id = stop
    model.generation_config.pad_token_id = ids["<pad>"]
    model.generation_config.bos_token_id = ids["<bos>"]

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.building-{os.getpid()}"
    model.save_pretrained(staging)
    processor.save_pretrained(staging)
    try:
        staging.rename(target)
    except OSError:  # another process finished first: keep its copy
        shutil.rmtree(staging, ignore_errors=True)
    return target
