"""The word-level recurrent language model, and the graph that is exported.

``RNNLM``: embedding -> stacked LSTM (or GRU) with dropout between layers ->
optional linear projection -> output layer, whose weight is the embedding
matrix when tied.  ``NextWordGraph`` wraps it into the Contract 2 signature
(ids and state in, log-probabilities of the word after the last position and
the new state out) that ``export.py`` hands to the ONNX exporter.  The state's
parts, and their order, are the model type's in ``keyboard_app.engine.contract``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from keyboard_app.engine.contract import cell_type

from .config import ModelConfig

State = tuple[Tensor, ...]  # LSTM: (h, c); GRU: (h,); each (layers, batch, hidden)

#: The torch layer of each recurrent model type (``contract.CELLS``); both take and
#: return the state parts in the contract's order.
RECURRENT_LAYERS: dict[str, type[nn.Module]] = {"lstm": nn.LSTM, "gru": nn.GRU}


class RNNLM(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embedding_dim)
        self.drop = nn.Dropout(c.dropout)
        self.state_parts = len(cell_type(c.cell).states)  # LSTM: h and c; GRU: h
        self.rnn = RECURRENT_LAYERS[c.cell](
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

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> State:
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        device = device or self.embedding.weight.device
        return tuple(torch.zeros(shape, device=device) for _ in range(self.state_parts))

    def recurrent(self, tokens: Tensor, state: State) -> tuple[Tensor, State]:
        """Last recurrent layer's output at every position, and the new state."""
        x = self.drop(self.embedding(tokens))  # (batch, time, embedding)
        if self.state_parts > 1:  # LSTM: the state is a tuple (h, c)
            out, new_state = self.rnn(x, tuple(state))  # (batch, time, hidden)
            return out, tuple(new_state)  # each (layers, batch, hidden)
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

    def forward(self, tokens: Tensor, *state: Tensor):
        """``state``: the parts in the contract's order (LSTM: h, c; GRU: h)."""
        out, new_state = self.model.recurrent(tokens, state)  # (batch, time, hidden)
        logits = self.model.decoder(self.model.head(out[:, -1]))  # (batch, vocab)
        log_probs = F.log_softmax(logits, dim=-1)  # (batch, vocab)
        return (log_probs, *new_state)


def count_parameters(model: nn.Module) -> int:
    """Distinct parameters (a tied matrix counts once)."""
    return sum(p.numel() for p in model.parameters())
