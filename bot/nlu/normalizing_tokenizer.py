"""Jieba tokenizer that segments the normalised text (see ``bot.nlu.textnorm``).

Rasa's ``JiebaTokenizer`` with one change: tokens are cut from the simplified,
NFKC-folded text. Offsets still point into the original message, because the
normalisation keeps one character per character, so entities come out as the
user wrote them. The domain dictionary is loaded exactly as in the parent
(``dictionary_path`` is a folder, copied into the model).
"""

from __future__ import annotations

import jieba
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.textnorm import normalize_same_length


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class NormalizingJiebaTokenizer(JiebaTokenizer):
    """Jieba on traditional/full-width-folded text, offsets on the original."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        normalized = normalize_same_length(text)
        tokens = [Token(word, start) for (word, start, _end) in jieba.tokenize(normalized)]
        return self._apply_token_pattern(tokens)
