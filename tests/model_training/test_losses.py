"""The sampled softmax estimates the full softmax's loss and gradient."""

from __future__ import annotations

import torch

from model_training.losses import SampledSoftmax, full_softmax_loss


def _problem(vocab=60, dim=8, tokens=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    counts = torch.randint(1, 1000, (vocab,), generator=gen).float()
    features = torch.randn(tokens, dim, generator=gen)
    weight = torch.randn(vocab, dim, generator=gen, requires_grad=True)
    bias = torch.randn(vocab, generator=gen)
    targets = torch.randint(0, vocab, (tokens,), generator=gen)
    return counts, features, weight, bias, targets


def test_with_every_word_in_the_exact_head_it_is_the_full_softmax():
    counts, f, w, b, t = _problem()
    exact = SampledSoftmax(counts, num_samples=16, num_exact=len(counts))
    torch.testing.assert_close(exact(f, t, w, b), full_softmax_loss(f, t, w, b), atol=1e-5, rtol=0)


def test_sampled_loss_and_gradient_estimate_the_full_ones():
    counts, f, w, b, t = _problem()
    full = full_softmax_loss(f, t, w, b)
    (full_grad,) = torch.autograd.grad(full, w)
    torch.manual_seed(0)
    for num_exact in (0, 10):
        loss_fn = SampledSoftmax(counts, num_samples=2000, num_exact=num_exact)
        losses, grads = [], []
        for _ in range(20):
            loss = loss_fn(f, t, w, b)
            losses.append(loss.item())
            grads.append(torch.autograd.grad(loss, w)[0])
        mean_loss = sum(losses) / len(losses)
        mean_grad = torch.stack(grads).mean(0)
        assert abs(mean_loss - full.item()) < 0.05 * full.item()
        cosine = torch.nn.functional.cosine_similarity(mean_grad.flatten(), full_grad.flatten(), dim=0)
        assert cosine > 0.98


def test_a_sample_equal_to_the_target_is_not_counted_as_a_negative():
    counts, f, w, b, t = _problem(vocab=3, tokens=5)
    # one tail word only: every sample is that word; when it is the target, the
    # draws are removed and the loss is the softmax over head + target
    counts = torch.tensor([100.0, 50.0, 1.0])
    loss_fn = SampledSoftmax(counts, num_samples=8, num_exact=2)
    targets = torch.full((5,), 2)
    torch.testing.assert_close(loss_fn(f, targets, w, b), full_softmax_loss(f, targets, w, b),
                               atol=1e-5, rtol=0)
