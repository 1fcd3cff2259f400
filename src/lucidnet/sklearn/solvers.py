"""The MLP estimators' solvers on the lucidnet ``Trainer``: the stochastic ones (epochs of
mini-batches, scikit-learn's stopping rule, early stopping) and L-BFGS (``lucidnet.lbfgs``
on the full-batch objective).

Both minimise scikit-learn's objective (``objective.py``). What they keep of
scikit-learn's, step by step, so that the same parameters mean the same run:

- **one epoch**: with ``shuffle``, the order of the previous epoch is shuffled again
  (``RandomState.shuffle`` of ``arange(n)``, as ``sklearn.utils.shuffle`` does), then
  batches of ``batch_size`` rows in that order, the last one shorter;
- **after each epoch**: ``n_iter_`` + 1, ``t_`` + rows, the mean of the batches' losses
  (each weighted by its rows) appended to ``loss_curve_``; then the stopping rule: the
  training loss (or, with ``early_stopping``, the validation score) counts as progress
  when it beats the best so far by ``tol``; after more than ``n_iter_no_change`` epochs
  without progress training stops, or with ``solver="sgd"`` and
  ``learning_rate="adaptive"`` the rate is divided by 5 (until it is at most 1e-6);
  with ``"invscaling"`` the rate becomes ``learning_rate_init / (t_ + 1) ** power_t``;
- **early stopping** holds out ``validation_fraction`` with ``train_test_split`` from the
  same random state (stratified for a binary classifier, as scikit-learn's), and ends
  with the weights of the best validation score.

Where lucidnet does more (the "nothing is lost" rule):

- **divergence**: a loss, gradient or weight that stops being finite ends training at
  once (scikit-learn carries on with NaN). The network keeps finite weights: the best
  validation score's with early stopping (a ``ConvergenceWarning`` says so), otherwise
  those of the epoch with the lowest training loss, and ``fit`` raises scikit-learn's
  ``ValueError`` ("Solver produced non-finite parameter weights...") saying where.
  ``loss_curve_`` (and ``validation_scores_``) end with NaN for that epoch.
- **Ctrl-C** puts back the weights from the start of the interrupted epoch (never a
  half-applied step) and warns, as scikit-learn warns "Training interrupted by user.".
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from ..denormals import flush_denormals
from ..lbfgs import minimize
from ..optimizers import SGD, Optimizer
from ..streaming import Rows, on_disk, take_rows
from ..training import Trainer, TrainingDiverged
from .objective import DENSE_VALUES, chunks, dense_rows

if TYPE_CHECKING:
    from .mlp import _BaseMLP

NONFINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


def split_for_early_stopping(
    est: _BaseMLP, X: Any, T: np.ndarray, sw: np.ndarray | None
) -> tuple[Any, ...]:
    """``X, T, sw`` for training and ``(X_val, y_val, sw_val)`` held out, as scikit-learn's
    early stopping splits them (from the estimator's random state, after the initial
    weights are drawn)."""
    stratify = est._stratify(T)
    mapped = on_disk(X)  # then split row indices: the training rows stay on disk
    first = np.arange(X.shape[0]) if mapped else X  # the same split: it depends on n and y
    arrays = [first, T] if sw is None else [first, T, sw]
    parts = train_test_split(
        *arrays,
        random_state=est._random_state,
        test_size=est.validation_fraction,
        stratify=stratify,
    )
    X_tr, X_val, T_tr, T_val = parts[:4]
    if mapped:  # the held-out rows are read into memory, to be scored after each epoch
        X_tr, X_val = Rows(X, X_tr), np.take(X, X_val, axis=0).astype(est.model_.dtype)
    sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of "
            f"your dataset (early_stopping held out {X_val.shape[0]} of {X.shape[0]} rows; "
            "it needs at least 2)."
        )
    return X_tr, T_tr, sw_tr, (X_val, est._labels(T_val), sw_val)


def fit_stochastic(
    est: _BaseMLP,
    X: Any,
    T: np.ndarray,
    sw: np.ndarray | None,
    incremental: bool,
    validation: tuple[Any, Any, Any] | None,
) -> None:
    """Epochs of mini-batches on ``est.model_`` (module docstring); ``validation`` is
    early stopping's held-out ``(X_val, y_val, sw_val)``, or None."""
    model = est.model_
    if not incremental or getattr(est, "_optimizer", None) is None:
        est._optimizer = est._make_optimizer()  # each fit starts a fresh one, as scikit-learn
        model.optimizer = est._optimizer
    optimizer = est._optimizer
    early = validation is not None
    X_val, y_val, sw_val = validation if validation is not None else (None, None, None)
    if early:
        if est._best_weights is None or not np.isfinite(est.best_validation_score_):
            est._best_weights = model.get_weights()  # no score yet: the weights of now
    n = X.shape[0]
    batch = est._batch_size(n)
    objective = est._objective()
    penalised = est._weight_parameters()
    trainer = Trainer(model, model.loss, optimizer)
    schedule = None if incremental else est._extra_schedule()
    sgd = est.solver == "sgd"
    rs = est._random_state
    dtype = model.dtype
    index = None  # early stopping's training rows of a memory map (streaming.Rows)
    if isinstance(X, Rows):
        X, index = X.x, X.index
    sparse = sp.issparse(X)
    order = np.arange(n)
    xbuf = None if sparse else np.empty((batch, *X.shape[1:]), dtype=dtype)
    # a memory map in another dtype: each batch is gathered as it is, then cast
    raw = None if sparse or X.dtype == dtype else np.empty((batch, *X.shape[1:]), X.dtype)
    tbuf = np.empty((batch, *T.shape[1:]), dtype=T.dtype)
    best_loss_weights = model.get_weights()
    start_weights = best_loss_weights
    lowest = np.inf
    diverged: TrainingDiverged | None = None
    est.n_iter_ = 0
    # subnormal Adam moments would slow the arithmetic 10-100x
    with flush_denormals():
        try:
            for epoch in range(int(est.max_iter)):
                if schedule is not None:
                    optimizer.lr = schedule(epoch)
                if est.shuffle:
                    perm = np.arange(n)
                    rs.shuffle(perm)
                    order = order[perm]
                start_weights = model.get_weights()
                where = f"those at the start of epoch {est.n_iter_ + 1}"
                total = 0.0
                for start in range(0, n, batch):
                    stop = min(start + batch, n)
                    k = stop - start
                    if est.shuffle:
                        rows: Any = order[start:stop]
                        at = rows if index is None else index[rows]
                        if sparse:
                            xb = dense_rows(X, at, dtype)
                        elif raw is None:
                            xb = np.take(X, at, axis=0, out=xbuf[:k], mode="clip")  # type: ignore[index]
                        else:
                            xb = take_rows(X, at, xbuf[:k], raw)  # type: ignore[index]
                        tb = np.take(T, rows, axis=0, out=tbuf[:k], mode="clip")
                    else:
                        rows = slice(start, stop)
                        at = rows if index is None else index[rows]
                        xb, tb = dense_rows(X, at, dtype), T[rows]
                    v, l2 = objective.batch(k, None if sw is None else sw[rows])
                    if not np.isfinite(l2):
                        continue  # the batch's weights sum to 0: nothing to learn from it
                    for p in penalised:
                        p.l2 = l2
                    pen = model.penalty() if objective.report_divisor != 1 else 0.0
                    try:
                        value, _ = trainer.step(xb, tb, start_weights, where, False, v)
                    except TrainingDiverged as err:
                        raise TrainingDiverged(
                            f"at epoch {est.n_iter_ + 1}, batch {start // batch + 1}: {err}",
                            epoch=est.n_iter_,
                            batch=start // batch,
                        ) from None
                    total += objective.reported(value, pen) * k
                try:
                    trainer.restore_if_not_finite(start_weights, where, None)
                except TrainingDiverged as err:
                    raise TrainingDiverged(
                        f"at the end of epoch {est.n_iter_ + 1}: {err}"
                    ) from None
                loss = total / n
                est.n_iter_ += 1
                est.loss_ = loss
                est.t_ += n
                est.loss_curve_.append(loss)
                if est.verbose:
                    print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
                if early:
                    _score_epoch(est, model, X_val, y_val, sw_val)
                else:
                    if loss > est.best_loss_ - est.tol:
                        est._no_improvement_count += 1
                    else:
                        est._no_improvement_count = 0
                    if loss < est.best_loss_:
                        est.best_loss_ = loss
                if loss < lowest and not early:
                    lowest, best_loss_weights = loss, model.get_weights()
                if sgd and est.learning_rate == "invscaling":
                    set_rate(optimizer, float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t)
                if est._no_improvement_count > est.n_iter_no_change:
                    what = "Validation score" if early else "Training loss"
                    msg = (
                        f"{what} did not improve more than tol={est.tol:f} for "
                        f"{est.n_iter_no_change} consecutive epochs."
                    )
                    if sgd and est.learning_rate == "adaptive" and optimizer.lr > 1e-6:
                        set_rate(optimizer, optimizer.lr / 5.0)
                        est._no_improvement_count = 0
                        if est.verbose:
                            print(f"{msg} Setting learning rate to {optimizer.lr:f}")
                    else:
                        if est.verbose:
                            print(f"{msg} Stopping.")
                        break
                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and "
                        "the optimization hasn't converged yet; raise max_iter or tol.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
        except TrainingDiverged as err:
            diverged = err
        except KeyboardInterrupt:
            model.set_weights(start_weights)
            kept = (
                "of the best validation score"
                if early
                else f"from the start of epoch {est.n_iter_ + 1} of this fit"
            )
            warnings.warn(
                f"Training interrupted by user. The network keeps the weights {kept}.", stacklevel=4
            )
    if diverged is not None:
        est.n_iter_ += 1
        est.loss_curve_.append(float("nan"))
        if early:
            est.validation_scores_.append(float("nan"))
    if early:
        model.set_weights(est._best_weights)
        if diverged is not None:
            best = est.best_validation_score_
            kept = (
                f"of the best validation score ({best})"
                if np.isfinite(best)
                else "from the start of this fit (no validation score was finite)"
            )
            warnings.warn(
                f"{type(est).__name__}: training diverged {diverged}; the network keeps the "
                f"weights {kept}. Lower learning_rate_init or scale the inputs.",
                ConvergenceWarning,
                stacklevel=4,
            )
    elif diverged is not None:
        model.set_weights(best_loss_weights)
        kept = (
            f"the epoch with the lowest training loss ({lowest:.6g})"
            if np.isfinite(lowest)
            else "the start of this fit"
        )
        raise ValueError(
            f"{NONFINITE} Training diverged {diverged}. The network keeps the weights of "
            f"{kept}; loss_curve_ ends with nan. Lower learning_rate_init or scale the inputs."
        )


def set_rate(optimizer: Optimizer, lr: float) -> None:
    """Change the learning rate the way scikit-learn's SGD sees it.

    Its velocity holds the step, ``v <- mu v - lr g``; lucidnet's (PyTorch's) holds the
    gradients, ``v <- mu v + g`` with the step ``lr v``. The two agree while the rate is
    constant; when it changes, scikit-learn's velocity keeps the step already taken, so
    lucidnet's is scaled by ``old / new`` to carry the same step.
    """
    old = optimizer.lr
    if isinstance(optimizer, SGD) and optimizer.momentum and old != lr:
        for state in optimizer.state.values():
            velocity = state.get("velocity")
            if velocity is not None:
                velocity *= velocity.dtype.type(old / lr)
    optimizer.lr = lr


def _score_epoch(est: _BaseMLP, model: Any, X_val: Any, y_val: Any, sw_val: Any) -> None:
    """Early stopping's bookkeeping after an epoch: the validation score (NaN when the
    predictions are not finite), the count of epochs without progress, the best weights."""
    with np.errstate(all="ignore"):  # a diverging network scores NaN, without warnings
        score = est._validation_score(X_val, y_val, sw_val)
    est.validation_scores_.append(score)
    if est.verbose:
        print(f"Validation score: {score:f}")
    if score < est.best_validation_score_ + est.tol:
        est._no_improvement_count += 1
    else:  # a NaN score compares False both ways: the count restarts, as scikit-learn's
        est._no_improvement_count = 0
    if score > est.best_validation_score_:
        est.best_validation_score_ = score
        est._best_weights = model.get_weights()


def fit_lbfgs(est: _BaseMLP, X: Any, T: np.ndarray, sw: np.ndarray | None) -> None:
    """Full-batch L-BFGS (``lucidnet.lbfgs.minimize``) on scikit-learn's objective, with
    its stopping rules: ``gtol = tol``, ``max_iter``, ``max_fun``.

    The objective and its gradient are summed over row chunks (one chunk for a dense X;
    a sparse X is made dense a chunk at a time), and the penalty
    ``alpha / (2 W) sum ||coef||^2`` is added once, by hand: ``value + penalty`` and
    ``grad + alpha / W * coef`` for each weight matrix.
    """
    model = est.model_
    params = model.parameters()
    flat = params.flat
    if flat is None:  # pragma: no cover - the estimators build one-dtype networks
        raise ValueError(f"{type(est).__name__}: lbfgs needs a network of one dtype")
    trainer = Trainer(model, model.loss)
    objective = est._objective()
    n = X.shape[0]
    total_w = float(n if sw is None else sw.sum())
    if total_w <= 0:
        raise ValueError(f"{type(est).__name__}: every sample_weight is 0; nothing to fit")
    penalised = est._weight_parameters()
    for p in penalised:
        p.l2 = 0.0  # the penalty is added once below, not once per chunk
    offsets, start = [], 0
    for p in params:
        if any(p is q for q in penalised):
            offsets.append((start, p))
        start += p.value.size
    dtype = model.dtype
    pieces = []
    # a memory map is read (and cast) a chunk at a time in every evaluation, never whole
    mapped = on_disk(X)
    size = max(1, DENSE_VALUES // max(1, int(np.prod(X.shape[1:])))) if mapped else None
    for rows in chunks(X, size):
        k = rows.stop - rows.start
        w = np.ones(k) if sw is None else sw[rows]
        v = None if sw is None and objective.factor == 1.0 else w * (objective.factor * k / total_w)
        xc = None if sp.issparse(X) or mapped else X[rows].astype(dtype, copy=False)
        pieces.append((rows, xc, T[rows], v, k / total_w if v is None else 1.0))
    coef = float(est.alpha) / total_w
    last_penalty = [0.0]

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        flat.values[...] = theta
        value, grad = 0.0, np.zeros(theta.size)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for rows, xc, tc, v, scale in pieces:
                xb = dense_rows(X, rows, dtype) if xc is None else xc
                out = trainer.gradients(
                    xb, tc, training=True, need_input_grad=False, sample_weight=v
                )
                value += out.loss * scale  # unweighted chunks: their mean, by their share of rows
                grad += flat.grads * scale
            sq = 0.0
            for off, p in offsets:
                w = p.value.ravel()
                sq += float(w @ w)
                grad[off : off + w.size] += coef * w
        penalty = 0.5 * coef * sq
        last_penalty[0] = penalty
        return value + penalty, grad

    theta0 = flat.values.astype(np.float64)
    accepted: list[Any] = [theta0, 0]  # the last point L-BFGS accepted, and its iteration

    def progress(theta: np.ndarray, f: float) -> None:
        loss = objective.reported(f, last_penalty[0])
        accepted[0], accepted[1] = theta.copy(), accepted[1] + 1
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {loss:.8f}")

    if getattr(est, "loss_curve_", None) is None:
        est.loss_curve_ = []
    try:
        with flush_denormals():
            result = minimize(
                fun,
                theta0,
                max_iter=int(est.max_iter),
                max_fun=int(est.max_fun),
                gtol=float(est.tol),
                callback=progress,
            )
    except ValueError as err:  # not finite at the start (any other error is not ours)
        if "not finite at x0" not in str(err):
            raise
        flat.values[...] = theta0
        raise ValueError(f"{NONFINITE} ({err}; the network keeps its weights)") from None
    except KeyboardInterrupt:  # back to the last accepted point, never a line-search trial
        flat.values[...] = accepted[0]
        est.n_iter_ = accepted[1]
        est.loss_ = est.loss_curve_[-1] if accepted[1] else None
        warnings.warn(
            f"Training interrupted by user. The network keeps the weights of L-BFGS "
            f"iteration {accepted[1]} (0: the start of this fit).",
            stacklevel=4,
        )
        return
    flat.values[...] = result.x
    if not np.all(np.isfinite(flat.values)):
        flat.values[...] = theta0
        raise ValueError(f"{NONFINITE} (L-BFGS ended on non-finite weights; kept the start's)")
    est.n_iter_ = result.nit
    est.loss_ = objective.reported(
        result.fun, 0.5 * coef * sum(float(p.value.ravel() @ p.value.ravel()) for _, p in offsets)
    )
    if not result.converged:
        warnings.warn(
            f"lbfgs failed to converge after {result.nit} iteration(s) ({result.message}; "
            f"max_iter={est.max_iter}, max_fun={est.max_fun}). Increase max_iter or max_fun, "
            "or scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
