"""The word-level recurrent language model, and the graph that is exported.

``RNNLM``: embedding -> stacked LSTM (or GRU) with dropout between layers ->
optional linear projection -> output layer, whose weight is the embedding
matrix when tied.  ``NextWordGraph`` wraps it into the Contract 2 signature
(ids and state in, log-probabilities of the word after the last position and
the new state out) that ``export.py`` hands to the ONNX exporter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig

State = tuple[Tensor, ...]  # LSTM: (h, c); GRU: (h,); each (layers, batch, hidden)


class RNNLM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
        self.drop = nn.Dropout(c.dropout)
        rnn = nn.LSTM if c.cell == "lstm" else nn.GRU
        self.rnn = rnn(
            c.embedding_dim,
            c.hidden_size,
            c.num_layers,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.projection = (
            nn.Linear(c.hidden_size, c.projection_dim, bias=False) if c.projection_dim else None
        )
        self.decoder = nn.Linear(c.output_dim, c.vocab_size)
        if c.tied:
            if c.output_dim != c.embedding_dim:
                raise ValueError("a tied model needs output_dim == embedding_dim")
            self.decoder.weight = self.embedding.weight
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if not self.config.tied:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def set_output_bias(self, counts: Tensor) -> None:
        """Start the output bias at the log unigram frequencies: the first
        steps then predict frequent words instead of spending them learning to."""
        with torch.no_grad():
            probs = counts.double().clamp(min=1) / counts.double().clamp(min=1).sum()
            self.decoder.bias.copy_(probs.log().float())

    @property
    def is_lstm(self) -> bool:
        return self.config.cell == "lstm"

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> State:
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        device = device or self.embedding.weight.device
        n = 2 if self.is_lstm else 1
        return tuple(torch.zeros(shape, device=device) for _ in range(n))

    def recurrent(self, tokens: Tensor, state: State) -> tuple[Tensor, State]:
        """Last recurrent layer's output at every position, and the new state."""
        x = self.drop(self.embedding(tokens))  # (batch, time, embedding)
        if self.is_lstm:
            out, (h, c) = self.rnn(x, (state[0], state[1]))  # (batch, time, hidden)
            return out, (h, c)  # h, c: (layers, batch, hidden)
        out, h = self.rnn(x, state[0])  # (batch, time, hidden)
        return out, (h,)

    def head(self, out: Tensor) -> Tensor:
        """Output-layer inputs from recurrent outputs: (..., hidden) -> (..., output_dim)."""
        if self.projection is not None:
            out = self.projection(out)  # (..., projection)
        return self.drop(out)

    def features(self, tokens: Tensor, state: State) -> tuple[Tensor, State]:
        """Output-layer inputs for every position, and the state after the last."""
        out, state = self.recurrent(tokens, state)  # (batch, time, hidden)
        return self.head(out), state  # (batch, time, output_dim)

    def forward(self, tokens: Tensor, state: State) -> tuple[Tensor, State]:
        """Logits for the next word at every position: (batch, time, vocab)."""
        feats, state = self.features(tokens, state)
        return self.decoder(feats), state  # (batch, time, vocab)


class NextWordGraph(nn.Module):
    """Contract 2's signature: log-probs of the word after the last position."""

    def __init__(self, model: RNNLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: Tensor, h: Tensor, c: Tensor | None = None):
        state: State = (h, c) if self.model.is_lstm else (h,)
        out, new_state = self.model.recurrent(tokens, state)  # (batch, time, hidden)
        logits = self.model.decoder(self.model.head(out[:, -1]))  # (batch, vocab)
        log_probs = F.log_softmax(logits, dim=-1)  # (batch, vocab)
        return (log_probs, *new_state)


def count_parameters(model: nn.Module) -> int:
    """Distinct parameters (a tied matrix counts once)."""
    return sum(p.numel() for p in model.parameters())
