r"""Structure of an instrument: confirmatory factor analysis and measurement invariance.

Maximum-likelihood CFA of a simple-structure model (each item loads on one factor), one group or
several, with lavaan's defaults and its fit measures, and the configural / metric / scalar sequence
that tests whether groups (languages, forms, waves) are measured the same way.

The model of group g is

.. math::

    \Sigma_g = \Lambda_g \Phi_g \Lambda_g' + \Theta_g, \qquad \mu_g = \nu_g + \Lambda_g \alpha_g

with :math:`\Lambda` the loadings (the first item of each factor fixed at 1: the marker), :math:`\Phi`
the factor (co)variances (all free), :math:`\Theta` the diagonal residual variances and, with groups, the
intercepts :math:`\nu` and the factor means :math:`\alpha` (0, or free in groups 2..G when the
intercepts are equal). The estimates minimise lavaan's normal-theory ML discrepancy

.. math::

    F = \sum_g \frac{N_g}{N}\Big[\log|\Sigma_g| + \operatorname{tr}(S_g\Sigma_g^{-1}) - \log|S_g| - p
        + (\bar y_g - \mu_g)'\Sigma_g^{-1}(\bar y_g - \mu_g)\Big]

with :math:`S_g` the covariance matrix of group g divided by :math:`N_g` (``likelihood = "normal"``),
by Fisher scoring on analytic first derivatives and the expected information, from starting values
in the spirit of lavaan's (instrumental-variable ratios of covariances for the loadings).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, optimize, stats

from psychometrics._input import FloatArray, ItemData, as_item_matrix

#: what ``equal`` (lavaan's ``group.equal``) may contain
EQUALITY_KINDS = ("loadings", "intercepts", "residuals")
#: the invariance decision rules (Cheung & Rensvold 2002; Chen 2007)
DELTA_CFI_MAX = 0.01
DELTA_RMSEA_MAX = 0.015

_LOG_2PI = math.log(2.0 * math.pi)
_MAX_ITERATIONS = 500
_GRADIENT_TOLERANCE = 1e-9
#: a polished solution counts as converged below this largest gradient entry
_CONVERGED_GRADIENT = 1e-6


@dataclass(frozen=True)
class CfaGroupResult:
    """The estimates of one group (the only group when no ``group`` was given).

    Attributes
    ----------
    label : hashable
        The group's label (None for a single-group model).
    n : int
        Complete rows of the group.
    loadings : DataFrame
        Standardised loadings (lavaan ``standardizedSolution()`` ``std.all``), item x factor, 0 where
        an item does not load.
    loadings_unstandardized : DataFrame
        The estimates themselves (the marker items have 1).
    factor_correlations, factor_covariances : DataFrame
        :math:`\\phi_{jk}/\\sqrt{\\phi_{jj}\\phi_{kk}}` and :math:`\\Phi` itself.
    residual_variances : DataFrame
        Per item ``estimate`` (:math:`\\theta_i`) and ``std_all`` (:math:`\\theta_i/\\sigma_{ii}`, the
        unexplained share of the item's variance).
    intercepts, latent_means : Series or None
        :math:`\\nu` and :math:`\\alpha` of a multi-group model (None for a single group).
    chisq : float
        This group's share of the test statistic, :math:`N_g F_g`.
    srmr : float
        This group's SRMR (Bentler's, with the means in a multi-group model).
    """

    label: Hashable
    n: int
    loadings: pd.DataFrame
    loadings_unstandardized: pd.DataFrame
    factor_correlations: pd.DataFrame
    factor_covariances: pd.DataFrame
    residual_variances: pd.DataFrame
    intercepts: pd.Series | None
    latent_means: pd.Series | None
    chisq: float
    srmr: float


@dataclass(frozen=True)
class CfaResult:
    """A fitted CFA: lavaan's ``fitMeasures()`` and the standardised solution.

    Attributes
    ----------
    n : int
        Complete rows used (all groups).
    n_groups : int
        Number of groups (1 without ``group``).
    npar : int
        Free parameters after the equality constraints (lavaan ``npar``).
    chisq, df, pvalue : float, int, float
        Likelihood-ratio test against the saturated model, :math:`\\chi^2 = N F_{min}`, summed over
        groups (lavaan's multi-group convention).
    baseline_chisq, baseline_df : float, int
        The independence model (free variances, and free means per group) that CFI and TLI compare with.
    cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high, srmr : float
        lavaan ``cfi``, ``tli``, ``rmsea``, ``rmsea.ci.lower``, ``rmsea.ci.upper`` (90%), ``srmr``.
    loglik, aic, bic : float
        lavaan ``logl``, ``aic``, ``bic``.
    converged : bool
        Whether the optimiser reached a stationary point; when False the numbers are the last
        iterate's and must not be reported as a fit.
    iterations : int
    heywood : bool
        An improper solution: a negative residual or factor variance, or a factor correlation
        outside [-1, 1] (see ``heywood_cases``). Reported, never hidden or bounded away.
    heywood_cases : tuple of str
        What is improper, in words (e.g. ``"residual variance of x3 < 0 (group 1)"``).
    equal : tuple of str
        The equality constraints across groups.
    loadings, factor_correlations, residual_variances : DataFrame
        Of the first group (the only one in a single-group model); see ``groups`` for the others.
    groups : dict
        :class:`CfaGroupResult` per group label (key None for a single group), in lavaan's group order.
    parameters : DataFrame
        Every parameter as lavaan's ``parameterEstimates()`` lists it (loadings, residual variances,
        factor (co)variances, then intercepts and factor means): ``lhs``, ``op``, ``rhs``, ``group``
        (1-based), ``group_label``, ``free``, ``parameter`` (its index; parameters held equal across
        groups share one; -1 when fixed), ``est`` and ``std_all`` (``standardizedSolution()``).
    """

    n: int
    n_groups: int
    npar: int
    chisq: float
    df: int
    pvalue: float
    baseline_chisq: float
    baseline_df: int
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    srmr: float
    loglik: float
    aic: float
    bic: float
    converged: bool
    iterations: int
    heywood: bool
    heywood_cases: tuple[str, ...]
    equal: tuple[str, ...]
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    residual_variances: pd.DataFrame
    groups: dict[Hashable, CfaGroupResult] = field(repr=False)
    parameters: pd.DataFrame = field(repr=False)

    def fit_measures(self) -> dict[str, float]:
        """The fit measures under lavaan's ``fitMeasures()`` names."""
        return {
            "npar": float(self.npar),
            "chisq": self.chisq,
            "df": float(self.df),
            "pvalue": self.pvalue,
            "baseline.chisq": self.baseline_chisq,
            "baseline.df": float(self.baseline_df),
            "cfi": self.cfi,
            "tli": self.tli,
            "rmsea": self.rmsea,
            "rmsea.ci.lower": self.rmsea_ci_low,
            "rmsea.ci.upper": self.rmsea_ci_high,
            "srmr": self.srmr,
            "logl": self.loglik,
            "aic": self.aic,
            "bic": self.bic,
            "ntotal": float(self.n),
        }


# ---------------------------------------------------------------------------------------------
# the model: which matrix entry is which free parameter
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Moments:
    n: int
    mean: FloatArray
    cov: FloatArray  # divided by n
    logdet: float


class _Model:
    """Index arrays mapping the free parameters onto Lambda, Phi, Theta, nu, alpha of each group.

    An index of -1 is a fixed entry (its value in the matching ``*_fixed`` array). Parameters shared
    by groups (the equality constraints) have one index used in every group.
    """

    def __init__(self, assignment: list[list[int]], p: int, n_groups: int, equal: tuple[str, ...]) -> None:
        m = len(assignment)
        self.p, self.m, self.n_groups = p, m, n_groups
        self.meanstructure = n_groups > 1
        self.assignment = assignment
        self.factor_of = np.empty(p, dtype=np.intp)
        for j, items in enumerate(assignment):
            self.factor_of[items] = j
        g_count = n_groups
        self.lam_idx = np.full((g_count, p, m), -1, dtype=np.intp)
        self.lam_fixed = np.zeros((g_count, p, m))
        self.phi_idx = np.full((g_count, m, m), -1, dtype=np.intp)
        self.theta_idx = np.full((g_count, p), -1, dtype=np.intp)
        self.nu_idx = np.full((g_count, p), -1, dtype=np.intp)
        self.alpha_idx = np.full((g_count, m), -1, dtype=np.intp)
        count = 0

        def new() -> int:
            """The next free parameter's index."""
            nonlocal count
            count += 1
            return count - 1

        for g in range(g_count):
            for j, items in enumerate(assignment):
                self.lam_fixed[g, items[0], j] = 1.0
                for i in items[1:]:
                    shared = "loadings" in equal and g > 0
                    self.lam_idx[g, i, j] = self.lam_idx[0, i, j] if shared else new()
            for i in range(p):
                shared = "residuals" in equal and g > 0
                self.theta_idx[g, i] = self.theta_idx[0, i] if shared else new()
            for j in range(m):
                for k in range(j, m):
                    index = new()
                    self.phi_idx[g, j, k] = self.phi_idx[g, k, j] = index
            if self.meanstructure:
                for i in range(p):
                    shared = "intercepts" in equal and g > 0
                    self.nu_idx[g, i] = self.nu_idx[0, i] if shared else new()
                if "intercepts" in equal and g > 0:
                    for j in range(m):
                        self.alpha_idx[g, j] = new()
        self.npar = count
        self.lam_free = [self.lam_idx[g] >= 0 for g in range(g_count)]
        self.alpha_free = [self.alpha_idx[g] >= 0 for g in range(g_count)]
        self.gradient_index = [
            np.concatenate(
                [
                    self.lam_idx[g][self.lam_free[g]],
                    self.phi_idx[g].ravel(),
                    self.theta_idx[g],
                    *([self.nu_idx[g], self.alpha_idx[g][self.alpha_free[g]]] if self.meanstructure else []),
                ]
            )
            for g in range(g_count)
        ]
        self._jacobians = [self.free_entries(g) for g in range(g_count)]

    def free_entries(self, g: int) -> list[tuple[str, int, int, int]]:
        """(kind, parameter, row, column) of every free entry of group g (Phi: upper triangle)."""
        layout: list[tuple[str, int, int, int]] = []
        for i, j in zip(*np.nonzero(self.lam_idx[g] >= 0), strict=True):
            layout.append(("lambda", int(self.lam_idx[g, i, j]), int(i), int(j)))
        for j in range(self.m):
            for k in range(j, self.m):
                layout.append(("phi", int(self.phi_idx[g, j, k]), j, k))
        for i in range(self.p):
            layout.append(("theta", int(self.theta_idx[g, i]), i, i))
        if self.meanstructure:
            for i in range(self.p):
                layout.append(("nu", int(self.nu_idx[g, i]), i, 0))
            for j in range(self.m):
                if self.alpha_idx[g, j] >= 0:
                    layout.append(("alpha", int(self.alpha_idx[g, j]), j, 0))
        return layout

    def matrices(
        self, theta: FloatArray, g: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Lambda (p x m), Phi (m x m), theta diagonal (p), nu (p) and alpha (m) of group g."""
        lam = np.where(self.lam_idx[g] >= 0, theta[self.lam_idx[g]], self.lam_fixed[g])
        phi = theta[self.phi_idx[g]]
        resid = theta[self.theta_idx[g]]
        nu = np.where(self.nu_idx[g] >= 0, theta[self.nu_idx[g]], 0.0)
        alpha = np.where(self.alpha_idx[g] >= 0, theta[self.alpha_idx[g]], 0.0)
        return lam, phi, resid, nu, alpha

    def implied(self, theta: FloatArray, g: int) -> tuple[FloatArray, FloatArray]:
        lam, phi, resid, nu, alpha = self.matrices(theta, g)
        sigma = lam @ phi @ lam.T
        sigma[np.diag_indices(self.p)] += resid
        return sigma, nu + lam @ alpha

    def derivatives(self, theta: FloatArray, g: int) -> tuple[FloatArray, FloatArray]:
        """d Sigma / d theta (npar x p x p) and d mu / d theta (npar x p) of group g."""
        lam, phi, _, _, alpha = self.matrices(theta, g)
        p = self.p
        d_sigma = np.zeros((self.npar, p, p))
        d_mu = np.zeros((self.npar, p))
        lam_phi = lam @ phi
        for kind, a, row, col in self._jacobians[g]:
            if kind == "lambda":
                v = lam_phi[:, col]
                d_sigma[a, row, :] += v
                d_sigma[a, :, row] += v
                d_mu[a, row] += alpha[col]
            elif kind == "phi":
                outer = np.outer(lam[:, row], lam[:, col])
                d_sigma[a] += outer if row == col else outer + outer.T
            elif kind == "theta":
                d_sigma[a, row, row] += 1.0
            elif kind == "nu":
                d_mu[a, row] += 1.0
            else:  # alpha
                d_mu[a] += lam[:, row]
        return d_sigma, d_mu


# ---------------------------------------------------------------------------------------------
# the discrepancy, its gradient and the expected information
# ---------------------------------------------------------------------------------------------


def _group_discrepancy(sigma: FloatArray, mu: FloatArray, moments: _Moments, meanstructure: bool) -> float:
    try:
        factor = linalg.cho_factor(sigma, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return math.inf
    logdet = 2.0 * float(np.log(np.diagonal(factor[0])).sum())
    inv_s = linalg.cho_solve(factor, moments.cov, check_finite=False)
    value = logdet + float(np.trace(inv_s)) - moments.logdet - sigma.shape[0]
    if meanstructure:
        d = moments.mean - mu
        value += float(d @ linalg.cho_solve(factor, d, check_finite=False))
    return float(value)


def _discrepancy(model: _Model, theta: FloatArray, moments: list[_Moments], weights: FloatArray) -> float:
    total = 0.0
    for g, group in enumerate(moments):
        sigma, mu = model.implied(theta, g)
        value = _group_discrepancy(sigma, mu, group, model.meanstructure)
        if not math.isfinite(value):
            return math.inf
        total += weights[g] * value
    return total


def _information(
    model: _Model, theta: FloatArray, moments: list[_Moments], weights: FloatArray
) -> FloatArray:
    r"""The expected Hessian of F (twice the Fisher information per observation).

    :math:`H_{ab} = \operatorname{tr}(\Sigma^{-1}\partial_a\Sigma\,\Sigma^{-1}\partial_b\Sigma)
    + 2\,\partial_a\mu'\Sigma^{-1}\partial_b\mu`.
    """
    q = model.npar
    information = np.zeros((q, q))
    for g in range(len(moments)):
        sigma, _ = model.implied(theta, g)
        inverse = linalg.inv(sigma, check_finite=False)
        d_sigma, d_mu = model.derivatives(theta, g)
        scaled = inverse @ d_sigma  # (q, p, p): Sigma^-1 dSigma_a
        info = np.einsum("aij,bji->ab", scaled, scaled)
        if model.meanstructure:
            info += 2.0 * (d_mu @ inverse @ d_mu.T)
        information += weights[g] * info
    return information


def _gradient(model: _Model, theta: FloatArray, moments: list[_Moments], weights: FloatArray) -> FloatArray:
    r"""Gradient of F from the matrix derivatives (no Jacobian): with W and :math:`b = \Sigma^{-1}d`,
    :math:`\partial F/\partial\Lambda = 2W\Lambda\Phi - 2b\alpha'`,
    :math:`\partial F/\partial\Phi = \Lambda'W\Lambda`,
    :math:`\partial F/\partial\theta = \operatorname{diag} W`,
    :math:`\partial F/\partial\nu = -2b`, :math:`\partial F/\partial\alpha = -2\Lambda'b`.
    """
    gradient = np.zeros(model.npar)
    for g, group in enumerate(moments):
        lam, phi, resid, nu, alpha = model.matrices(theta, g)
        sigma = lam @ phi @ lam.T
        sigma[np.diag_indices(model.p)] += resid
        inverse = linalg.inv(sigma, check_finite=False)
        parts = []
        if model.meanstructure:
            d = group.mean - nu - lam @ alpha
            b = inverse @ d
            w = inverse - inverse @ (group.cov + np.outer(d, d)) @ inverse
            g_lam = 2.0 * (w @ lam @ phi) - 2.0 * np.outer(b, alpha)
        else:
            w = inverse - inverse @ group.cov @ inverse
            g_lam = 2.0 * (w @ lam @ phi)
        parts = [g_lam[model.lam_free[g]], (lam.T @ w @ lam).ravel(), np.diagonal(w)]
        if model.meanstructure:
            parts += [-2.0 * b, (-2.0 * (lam.T @ b))[model.alpha_free[g]]]
        gradient += weights[g] * np.bincount(
            model.gradient_index[g], weights=np.concatenate(parts), minlength=model.npar
        )
    return gradient


def _newton_hessian(
    model: _Model, theta: FloatArray, moments: list[_Moments], weights: FloatArray
) -> FloatArray:
    """The observed Hessian of F by central differences of the analytic gradient (symmetrised)."""
    q = model.npar
    hessian = np.empty((q, q))
    scale = 1e-5 * np.maximum(np.abs(theta), 0.1)
    for a in range(q):
        step = np.zeros(q)
        step[a] = scale[a]
        hessian[:, a] = (
            _gradient(model, theta + step, moments, weights)
            - _gradient(model, theta - step, moments, weights)
        ) / (2.0 * scale[a])
    return 0.5 * (hessian + hessian.T)


def _fisher_scoring(
    model: _Model, start: FloatArray, moments: list[_Moments], weights: FloatArray
) -> tuple[FloatArray, bool, int]:
    """Minimise F: Fisher scoring with a backtracking line search, Newton steps near the minimum.

    Fisher scoring (the expected information) is robust far from the minimum but converges only
    linearly when the model does not fit; near the minimum (largest gradient entry below 1e-4)
    Newton steps on the observed Hessian finish in a few iterations. L-BFGS-B polishes a stall.
    """
    theta = start.copy()
    value = _discrepancy(model, theta, moments, weights)
    hessian_factor: tuple[FloatArray, bool] | None = None
    for iteration in range(1, _MAX_ITERATIONS + 1):
        gradient = _gradient(model, theta, moments, weights)
        largest = float(np.max(np.abs(gradient)))
        if largest < _GRADIENT_TOLERANCE:
            return theta, True, iteration
        step = None
        if largest < 1e-4:
            if hessian_factor is None:
                # one observed Hessian near the minimum, reused: it hardly changes from here on
                try:
                    hessian_factor = linalg.cho_factor(_newton_hessian(model, theta, moments, weights))
                except (linalg.LinAlgError, ValueError):
                    hessian_factor = None
            if hessian_factor is not None:
                step = -linalg.cho_solve(hessian_factor, gradient, check_finite=False)
        if step is None:
            information = _information(model, theta, moments, weights)
            try:
                step = -linalg.solve(information, gradient, assume_a="sym", check_finite=False)
            except (linalg.LinAlgError, ValueError):
                step = -gradient
        slope = float(gradient @ step)
        if not slope < 0.0:
            step, slope = -gradient, -float(gradient @ gradient)
        # near the minimum F changes by less than its rounding error: allow for that
        slack = 1e-13 * max(1.0, abs(value))
        length = 1.0
        while length > 1e-12:
            candidate = theta + length * step
            candidate_value = _discrepancy(model, candidate, moments, weights)
            if candidate_value <= value + 1e-4 * length * slope + slack:
                break
            length *= 0.5
        else:
            break  # no step lowers F: a stall (polished below)
        theta, value = candidate, candidate_value
    return _polish(model, theta, moments, weights)


def _polish(
    model: _Model, theta: FloatArray, moments: list[_Moments], weights: FloatArray
) -> tuple[FloatArray, bool, int]:
    def objective(x: FloatArray) -> tuple[float, FloatArray]:
        value = _discrepancy(model, x, moments, weights)
        if not math.isfinite(value):
            return 1e10, np.zeros_like(x)
        return value, _gradient(model, x, moments, weights)

    result = optimize.minimize(
        objective, theta, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15}
    )
    x = np.asarray(result.x, dtype=np.float64)
    gradient = _gradient(model, x, moments, weights)
    return x, bool(float(np.max(np.abs(gradient))) < _CONVERGED_GRADIENT), _MAX_ITERATIONS + int(result.nit)


def _start_values(model: _Model, moments: list[_Moments]) -> FloatArray:
    """Starting values: loadings as instrumental-variable ratios of covariances, Phi by least squares.

    For item i of factor j with marker r, :math:`\\lambda_i = \\sum_k s_{ik} / \\sum_k s_{rk}` over the
    other items k of the factor (over the items of the other factors for a two-item factor), the
    idea behind lavaan's FABIN starting values. Shared parameters start at the mean over groups.
    """
    sums = np.zeros(model.npar)
    counts = np.zeros(model.npar)
    for g, group in enumerate(moments):
        s = group.cov
        lam = np.zeros((model.p, model.m))
        for j, items in enumerate(model.assignment):
            marker = items[0]
            lam[marker, j] = 1.0
            for i in items[1:]:
                others = [k for k in items if k not in (i, marker)]
                if not others:
                    others = [k for k in range(model.p) if model.factor_of[k] != j]
                denominator = float(s[marker, others].sum())
                ratio = float(s[i, others].sum()) / denominator if abs(denominator) > 1e-12 else 1.0
                lam[i, j] = ratio if math.isfinite(ratio) and abs(ratio) < 10 else 1.0
        phi = np.zeros((model.m, model.m))
        for j, items_j in enumerate(model.assignment):
            for k, items_k in enumerate(model.assignment):
                if k < j:
                    continue
                num = den = 0.0
                for a in items_j:
                    for b in items_k:
                        if a == b:
                            continue
                        num += s[a, b] * lam[a, j] * lam[b, k]
                        den += (lam[a, j] * lam[b, k]) ** 2
                phi[j, k] = phi[k, j] = num / den if den > 0 else 0.0
        for j, items in enumerate(model.assignment):
            if not phi[j, j] > 0:
                phi[j, j] = 0.5 * s[items[0], items[0]]
        for j in range(model.m):
            for k in range(j + 1, model.m):
                bound = 0.9 * math.sqrt(phi[j, j] * phi[k, k])
                phi[j, k] = phi[k, j] = float(np.clip(phi[j, k], -bound, bound))
        if float(np.linalg.eigvalsh(phi)[0]) <= 0:
            phi = np.diag(np.diagonal(phi))
        explained = np.einsum("ij,jk,ik->i", lam, phi, lam)
        resid = np.maximum(np.diagonal(s) - explained, 0.1 * np.diagonal(s))
        by_kind = {
            "lambda": lam,
            "phi": phi,
            "theta": np.diag(resid),
            "nu": group.mean[:, None],
            "alpha": np.zeros((model.m, 1)),
        }
        for kind, a, row, col in model.free_entries(g):
            sums[a] += by_kind[kind][row, col]
            counts[a] += 1
    return sums / np.maximum(counts, 1)


# ---------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------


def _check_factors(factors: Mapping[str, Sequence[Hashable]], columns: Iterable[Hashable]) -> list[Hashable]:
    if not isinstance(factors, Mapping) or not factors:
        raise TypeError('factors must be a non-empty mapping {"factor": ["item", ...], ...}')
    owner: dict[Hashable, str] = {}
    items: list[Hashable] = []
    for name, members in factors.items():
        if isinstance(members, str) or not isinstance(members, Sequence):
            raise TypeError(f"the items of factor {name!r} must be a list of column names")
        if len(members) < 2:
            raise ValueError(
                f"factor {name!r} has {len(members)} item(s); a factor needs at least 2 "
                "(and a model with one factor at least 3)"
            )
        for item in members:
            if item in owner:
                where = "twice in factor" if owner[item] == name else f"in factors {owner[item]!r} and"
                raise ValueError(
                    f"item {item!r} is {where} {name!r}; each item loads on one factor (simple structure)"
                )
            owner[item] = name
            items.append(item)
    if len(factors) == 1 and len(items) < 3:
        raise ValueError(
            f"a one-factor model with {len(items)} items is not identified; it needs at least 3 items"
        )
    known = set(columns)
    unknown = [item for item in items if item not in known]
    if unknown:
        raise ValueError(f"unknown column(s) in factors: {unknown}")
    return items


def _group_labels(data: pd.DataFrame, group: Hashable | ArrayLike) -> NDArray[np.object_]:
    """One label per row (object array, None/NaN where missing): a column of ``data`` or the labels given."""
    if isinstance(group, (pd.Series, pd.Index, np.ndarray, list, tuple)):
        labels = np.asarray(group, dtype=object)
        if labels.ndim != 1 or len(labels) != len(data):
            raise ValueError(f"group must have one label per row ({len(data)}), got shape {labels.shape}")
        return labels
    if not isinstance(group, Hashable) or group not in data.columns:
        raise ValueError(f"unknown group column {group!r}")
    column: pd.Series = data[group]
    return np.asarray(column.to_numpy(dtype=object))


def _moments(values: FloatArray) -> _Moments:
    n = values.shape[0]
    mean = values.mean(axis=0)
    centred = values - mean
    cov = centred.T @ centred / n
    sign, logdet = np.linalg.slogdet(cov)
    return _Moments(n=n, mean=mean, cov=cov, logdet=float(logdet) if sign > 0 else math.nan)


@dataclass(frozen=True)
class _Prepared:
    items: list[Hashable]
    factor_names: list[str]
    assignment: list[list[int]]
    labels: list[Hashable]
    moments: list[_Moments]


def _prepare(
    data: ItemData,
    factors: Mapping[str, Sequence[Hashable]],
    group: Hashable | ArrayLike | None,
    missing: str,
) -> _Prepared:
    if missing != "listwise":
        raise ValueError(
            f'missing must be "listwise" (complete cases, as lavaan\'s default), got {missing!r}'
        )
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data))
    items = _check_factors(factors, frame.columns)
    matrix = as_item_matrix(frame[items], min_items=3, what="the factor items")
    values = matrix.values
    if np.isinf(values).any():
        raise ValueError("the factor items contain infinite values; use NaN for a missing answer")
    position = {item: index for index, item in enumerate(items)}
    assignment = [[position[item] for item in members] for members in factors.values()]
    complete = ~np.isnan(values).any(axis=1)
    if group is None:
        blocks: list[tuple[Hashable, FloatArray]] = [(None, values[complete])]
    else:
        labels = _group_labels(frame, group)
        # lavaan's group order: first appearance in the data (not sorted, not the factor levels)
        codes, uniques = pd.factorize(labels, sort=False)
        if len(uniques) < 2:
            raise ValueError(f"group needs at least 2 groups, got {len(uniques)}")
        blocks = [(uniques[g], values[complete & (codes == g)]) for g in range(len(uniques))]
    moments: list[_Moments] = []
    for label, block in blocks:
        where = "" if label is None else f" of group {label!r}"
        if block.shape[0] <= len(items):
            raise ValueError(
                f"{block.shape[0]} complete row(s){where} for {len(items)} items: the sample covariance "
                "matrix is singular (a CFA needs many more complete rows than items)"
            )
        group_moments = _moments(block)
        eigen = np.linalg.eigvalsh(group_moments.cov)
        if not (math.isfinite(group_moments.logdet) and eigen[0] > 1e-10 * max(eigen[-1], 1e-300)):
            raise ValueError(
                f"the sample covariance matrix{where} is not positive definite (a constant item, or an "
                "item that is a linear combination of others)"
            )
        moments.append(group_moments)
    return _Prepared(
        items=items,
        factor_names=[str(name) for name in factors],
        assignment=assignment,
        labels=[label for label, _ in blocks],
        moments=moments,
    )


# ---------------------------------------------------------------------------------------------
# cfa
# ---------------------------------------------------------------------------------------------


def cfa(
    data: ItemData,
    factors: Mapping[str, Sequence[Hashable]],
    *,
    group: Hashable | ArrayLike | None = None,
    equal: Iterable[str] = (),
    missing: str = "listwise",
) -> CfaResult:
    r"""Confirmatory factor analysis by maximum likelihood, as lavaan's ``cfa()`` with its defaults.

    Identification: the first loading of each factor is fixed at 1 (marker variable), factor
    variances and covariances are free. The estimates minimise the normal-theory discrepancy
    (module docstring) on the covariance matrix divided by N (``likelihood = "normal"``) and, with
    ``group``, the means. Fit measures, as ``fitMeasures()``:

    .. math::

        \chi^2 = \sum_g N_g F_g,\quad
        \mathrm{CFI} = 1 - \frac{\max(\chi^2 - df, 0)}{\max(\chi^2 - df, \chi^2_b - df_b, 0)},\quad
        \mathrm{TLI} = \frac{\chi^2_b/df_b - \chi^2/df}{\chi^2_b/df_b - 1}

    .. math::

        \mathrm{RMSEA} = \sqrt{G}\sqrt{\max\left(\frac{\chi^2}{N\,df} - \frac1N, 0\right)},\qquad
        \mathrm{SRMR} = \sum_g \frac{N_g}{N}\sqrt{\frac{\sum_{i\le j} r_{ij}^2 + \sum_i m_i^2}{e}}

    with :math:`\chi^2_b` the independence model, the RMSEA interval from the noncentral
    :math:`\chi^2` quantiles (90%), :math:`r_{ij} = (s_{ij} - \sigma_{ij})/\sqrt{s_{ii}s_{jj}}`,
    :math:`m_i = (\bar y_i - \mu_i)/\sqrt{s_{ii}}` (multi-group only) and e the number of moments
    summed. ``logl`` is the normal log-likelihood (at the sample means without groups),
    :math:`AIC = -2\,logl + 2q`, :math:`BIC = -2\,logl + q\log N` for q free parameters.

    Missing data: **listwise** (lavaan's default ``missing = "listwise"``): rows with any missing item
    (or a missing group label) are left out; nothing is imputed.

    Parameters
    ----------
    data : DataFrame
        Rows are respondents, columns include the items (reverse-keyed items recoded) and, when
        ``group`` names a column, the group labels.
    factors : mapping
        ``{"factor": ["item", ...], ...}``, simple structure; the first item of each factor is its marker.
    group : column label or array-like, optional
        Group labels (a column of ``data`` or one label per row); rows without a label are left
        out. Groups are ordered as lavaan 0.6 orders them, by first appearance in the data (not by
        sorted labels or factor levels); the first is the reference group.
    equal : iterable of str
        Any of ``"loadings"``, ``"intercepts"``, ``"residuals"``, as lavaan's ``group.equal``. With
        equal intercepts the factor means are free in every group but the first.
    missing : {"listwise"}

    Returns
    -------
    CfaResult

    Raises
    ------
    ValueError
        A factor with fewer than 2 items (a one-factor model with fewer than 3), an item in two
        factors, unknown columns, fewer complete rows than free parameters, a sample covariance
        matrix that is not positive definite, a model with negative degrees of freedom, an
        unknown ``equal`` or ``missing``.
    TypeError
        Non-numeric items, ``factors`` not a mapping of lists.

    Notes
    -----
    A Heywood case (negative variance estimate, correlation beyond 1) is flagged in ``heywood``
    and ``heywood_cases`` and the estimate kept, as lavaan does; a failed optimisation gives
    ``converged = False`` instead of an exception.

    References
    ----------
    Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor analysis.
    *Psychometrika*, 34, 183-202.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.
    Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
    analysis. *Structural Equation Modeling*, 6, 1-55.

    Examples
    --------
    Matches R (lavaan 0.6.14) ``fit <- lavaan::cfa('visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6;
    speed =~ x7 + x8 + x9', data = HolzingerSwineford1939); fitMeasures(fit)``; R gives chisq
    85.3055218, cfi 0.9305597 and rmsea 0.0921150::

        fit = cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
                       "speed": ["x7", "x8", "x9"]})
        fit.chisq, fit.cfi, fit.rmsea   # (85.3055..., 0.93055..., 0.09211...)
    """
    equal_kinds = tuple(dict.fromkeys(equal))
    wrong = [kind for kind in equal_kinds if kind not in EQUALITY_KINDS]
    if isinstance(equal, str) or wrong:
        raise ValueError(f"equal takes any of {EQUALITY_KINDS} (as a list), got {equal!r}")
    if equal_kinds and group is None:
        raise ValueError("equal constraints need a group")
    return _fit(_prepare(data, factors, group, missing), equal_kinds)


def _fit(prepared: _Prepared, equal_kinds: tuple[str, ...]) -> CfaResult:
    """Fit the model to prepared moments (shared by the steps of an invariance sequence)."""
    n_groups = len(prepared.moments)
    p = len(prepared.items)
    model = _Model(prepared.assignment, p, n_groups, equal_kinds)
    n_total = sum(moments.n for moments in prepared.moments)
    moments_per_group = p * (p + 1) // 2 + (p if model.meanstructure else 0)
    df = n_groups * moments_per_group - model.npar
    if df < 0:
        raise ValueError(
            f"the model is not identified: {model.npar} free parameters for "
            f"{n_groups * moments_per_group} moments"
        )
    if n_total < model.npar:
        raise ValueError(
            f"{n_total} complete rows for {model.npar} free parameters; a CFA needs at least as many "
            "complete rows as parameters (and far more for a stable fit)"
        )
    weights = np.array([moments.n / n_total for moments in prepared.moments])
    theta, converged, iterations = _fisher_scoring(
        model, _start_values(model, prepared.moments), prepared.moments, weights
    )
    return _result(model, prepared, theta, weights, df, converged, iterations, equal_kinds)


def _result(
    model: _Model,
    prepared: _Prepared,
    theta: FloatArray,
    weights: FloatArray,
    df: int,
    converged: bool,
    iterations: int,
    equal: tuple[str, ...],
) -> CfaResult:
    p, n_groups = model.p, model.n_groups
    n_total = sum(moments.n for moments in prepared.moments)
    items, factor_names = prepared.items, prepared.factor_names
    groups: dict[Hashable, CfaGroupResult] = {}
    rows: list[dict[str, Any]] = []
    heywood: list[str] = []
    chisq = loglik = baseline = 0.0
    srmr = 0.0
    for g, group_moments in enumerate(prepared.moments):
        label = prepared.labels[g]
        where = "" if n_groups == 1 else f" (group {label})"
        lam, phi, resid, nu, alpha = model.matrices(theta, g)
        sigma, mu = model.implied(theta, g)
        f_g = _group_discrepancy(sigma, mu, group_moments, model.meanstructure)
        group_chisq = group_moments.n * f_g
        chisq += group_chisq
        logdet_sigma = float(np.linalg.slogdet(sigma)[1])
        inverse = linalg.inv(sigma)
        d = group_moments.mean - mu if model.meanstructure else np.zeros(p)
        loglik += (
            -0.5
            * group_moments.n
            * (
                p * _LOG_2PI
                + logdet_sigma
                + float(np.trace(inverse @ group_moments.cov))
                + float(d @ inverse @ d)
            )
        )
        s = group_moments.cov
        baseline += group_moments.n * (float(np.log(np.diagonal(s)).sum()) - group_moments.logdet)
        sd_sample = np.sqrt(np.diagonal(s))
        residual = (s - sigma) / np.outer(sd_sample, sd_sample)
        squares = residual[np.triu_indices(p)] ** 2
        count = squares.size
        total = float(squares.sum())
        if model.meanstructure:
            total += float((((group_moments.mean - mu) / sd_sample) ** 2).sum())
            count += p
        group_srmr = math.sqrt(total / count)
        srmr += weights[g] * group_srmr

        sd_implied = np.sqrt(np.diagonal(sigma))
        with np.errstate(invalid="ignore", divide="ignore"):
            sd_factor = np.sqrt(np.diagonal(phi))
            std_lam = lam * sd_factor[None, :] / sd_implied[:, None]
            correlations = phi / np.outer(sd_factor, sd_factor)
        std_resid = resid / np.diagonal(sigma)
        for i, item in enumerate(items):
            if resid[i] < 0:
                heywood.append(f"residual variance of {item} < 0{where}")
        for j, name in enumerate(factor_names):
            if phi[j, j] <= 0:
                heywood.append(f"variance of factor {name} <= 0{where}")
            for k in range(j + 1, model.m):
                if abs(correlations[j, k]) > 1:
                    heywood.append(f"correlation of factors {name} and {factor_names[k]} beyond 1{where}")
        if model.m > 1 and not heywood and float(np.linalg.eigvalsh(phi)[0]) < 0:
            heywood.append(f"factor covariance matrix not positive definite{where}")

        loadings = pd.DataFrame(std_lam, index=items, columns=factor_names)
        group_result = CfaGroupResult(
            label=label,
            n=group_moments.n,
            loadings=loadings,
            loadings_unstandardized=pd.DataFrame(lam, index=items, columns=factor_names),
            factor_correlations=pd.DataFrame(correlations, index=factor_names, columns=factor_names),
            factor_covariances=pd.DataFrame(phi, index=factor_names, columns=factor_names),
            residual_variances=pd.DataFrame({"estimate": resid, "std_all": std_resid}, index=items),
            intercepts=pd.Series(nu, index=items) if model.meanstructure else None,
            latent_means=pd.Series(alpha, index=factor_names) if model.meanstructure else None,
            chisq=group_chisq,
            srmr=group_srmr,
        )
        groups[label] = group_result
        rows.extend(
            _parameter_rows(
                model,
                g,
                theta,
                lam,
                phi,
                resid,
                nu,
                alpha,
                std_lam,
                correlations,
                std_resid,
                sd_implied,
                sd_factor,
                items,
                factor_names,
                label,
            )
        )

    npar = model.npar
    baseline_df = n_groups * p * (p - 1) // 2
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan
    cfi, tli = _cfi_tli(chisq, df, baseline, baseline_df)
    rmsea, ci_low, ci_high = _rmsea(chisq, df, n_total, n_groups)
    first = groups[prepared.labels[0]]
    return CfaResult(
        n=n_total,
        n_groups=n_groups,
        npar=npar,
        chisq=chisq,
        df=df,
        pvalue=pvalue,
        baseline_chisq=baseline,
        baseline_df=baseline_df,
        cfi=cfi,
        tli=tli,
        rmsea=rmsea,
        rmsea_ci_low=ci_low,
        rmsea_ci_high=ci_high,
        srmr=srmr,
        loglik=loglik,
        aic=-2.0 * loglik + 2.0 * npar,
        bic=-2.0 * loglik + npar * math.log(n_total),
        converged=converged,
        iterations=iterations,
        heywood=bool(heywood),
        heywood_cases=tuple(heywood),
        equal=equal,
        loadings=first.loadings,
        factor_correlations=first.factor_correlations,
        residual_variances=first.residual_variances,
        groups=groups,
        parameters=pd.DataFrame(rows),
    )


def _parameter_rows(
    model: _Model,
    g: int,
    theta: FloatArray,
    lam: FloatArray,
    phi: FloatArray,
    resid: FloatArray,
    nu: FloatArray,
    alpha: FloatArray,
    std_lam: FloatArray,
    correlations: FloatArray,
    std_resid: FloatArray,
    sd_implied: FloatArray,
    sd_factor: FloatArray,
    items: list[Hashable],
    factor_names: list[str],
    label: Hashable,
) -> list[dict[str, Any]]:
    """Rows in the order of lavaan's parameter table: loadings, residuals, factor (co)variances, means."""
    rows: list[dict[str, Any]] = []

    def add(lhs: Any, op: str, rhs: Any, index: int, est: float, std: float) -> None:
        rows.append(
            {
                "lhs": str(lhs),
                "op": op,
                "rhs": str(rhs),
                "group": g + 1,
                "group_label": label,
                "free": index >= 0,
                "parameter": index,
                "est": float(est),
                "std_all": float(std),
            }
        )

    for j, members in enumerate(model.assignment):
        for i in members:
            add(factor_names[j], "=~", items[i], int(model.lam_idx[g, i, j]), lam[i, j], std_lam[i, j])
    for i, item in enumerate(items):
        add(item, "~~", item, int(model.theta_idx[g, i]), resid[i], std_resid[i])
    for j in range(model.m):
        for k in range(j, model.m):
            add(
                factor_names[j],
                "~~",
                factor_names[k],
                int(model.phi_idx[g, j, k]),
                phi[j, k],
                correlations[j, k],
            )
    if model.meanstructure:
        for i, item in enumerate(items):
            add(item, "~1", "", int(model.nu_idx[g, i]), nu[i], nu[i] / sd_implied[i])
        for j, name in enumerate(factor_names):
            add(name, "~1", "", int(model.alpha_idx[g, j]), alpha[j], alpha[j] / sd_factor[j])
    return rows


def _cfi_tli(chisq: float, df: int, baseline: float, baseline_df: int) -> tuple[float, float]:
    """lavaan's CFI and TLI (``lav_fit_cfi``): 1 when both non-centralities are 0."""
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, baseline - baseline_df, 0.0)
    cfi = (
        1.0
        if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8)
        else 1.0 - t1 / t2
    )
    if df > 0 and baseline_df > 0:
        top = baseline / baseline_df - chisq / df
        bottom = baseline / baseline_df - 1.0
        tli = 1.0 if top < 0 and bottom < 0 else top / bottom
    else:
        tli = 1.0
    return cfi, tli


def _rmsea(chisq: float, df: int, n: int, n_groups: int) -> tuple[float, float, float]:
    """RMSEA and its 90% interval as ``lav_fit_rmsea`` / ``lav_fit_rmsea_ci`` (N, not N - 1)."""
    if df <= 0:
        return 0.0, 0.0, 0.0
    scale = math.sqrt(n_groups)
    rmsea = math.sqrt(max(chisq / n / df - 1.0 / n, 0.0)) * scale

    def cdf(ncp: float) -> float:
        return float(stats.chi2.cdf(chisq, df)) if ncp <= 0 else float(stats.ncx2.cdf(chisq, df, ncp))

    if cdf(0.0) < 0.95:
        low = 0.0
    else:
        low = (
            math.sqrt(optimize.brentq(lambda ncp: cdf(ncp) - 0.95, 0.0, chisq, xtol=1e-12) / (n * df)) * scale
        )
    upper_end = max(float(n), 4.0 * chisq)
    if cdf(upper_end) > 0.05 or cdf(0.0) < 0.05:
        high = 0.0
    else:
        high = (
            math.sqrt(optimize.brentq(lambda ncp: cdf(ncp) - 0.05, 0.0, upper_end, xtol=1e-12) / (n * df))
            * scale
        )
    return rmsea, low, high


# ---------------------------------------------------------------------------------------------
# measurement invariance
# ---------------------------------------------------------------------------------------------

_STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
}


def measurement_invariance(
    data: ItemData, factors: Mapping[str, Sequence[Hashable]], group: Hashable | ArrayLike
) -> pd.DataFrame:
    r"""Configural, metric and scalar invariance across groups, each step tested against the one before.

    Three multi-group CFAs (see :func:`cfa`): configural (the same factors, every parameter free
    per group), metric (equal loadings, lavaan ``group.equal = "loadings"``) and scalar (equal
    loadings and intercepts, ``group.equal = c("loadings", "intercepts")``). Against the step
    before: the likelihood-ratio test :math:`\Delta\chi^2 = \chi^2_{k} - \chi^2_{k-1}` on
    :math:`\Delta df` degrees of freedom (``lavTestLRT``), :math:`\Delta CFI` and
    :math:`\Delta RMSEA`.

    The decision rule: a step holds when the CFI drops by at most .01 (:math:`\Delta CFI \ge -.01`,
    Cheung & Rensvold 2002) **and** the RMSEA rises by at most .015 (:math:`\Delta RMSEA \le .015`,
    Chen 2007). The LRT is reported beside it; with hundreds of respondents per group it rejects
    trivial differences, which is why the change in fit indices decides.

    Missing data: **listwise**, per model as :func:`cfa` (the same complete rows in every step).

    Parameters
    ----------
    data : DataFrame
    factors : mapping
        ``{"factor": ["item", ...], ...}`` as for :func:`cfa`.
    group : column label or array-like
        At least two groups.

    Returns
    -------
    DataFrame
        Index ``configural``, ``metric``, ``scalar``; columns ``chisq``, ``df``, ``pvalue``,
        ``cfi``, ``tli``, ``rmsea``, ``srmr``, ``delta_chisq``, ``delta_df``, ``p_delta``,
        ``delta_cfi``, ``delta_rmsea`` (NaN on the configural row), ``cfi_ok``, ``rmsea_ok``,
        ``holds`` (booleans; the configural row has None) ``converged`` and ``verdict`` (words).

    Raises
    ------
    ValueError
        As :func:`cfa`, or fewer than two groups.

    References
    ----------
    Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. *Structural Equation Modeling*, 9, 233-255.
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
    *Structural Equation Modeling*, 14, 464-504.

    Examples
    --------
    Matches R (lavaan 0.6.14)::

        configural <- cfa(model, data, group = "school")
        metric <- cfa(model, data, group = "school", group.equal = "loadings")
        scalar <- cfa(model, data, group = "school", group.equal = c("loadings", "intercepts"))
        lavTestLRT(configural, metric, scalar); sapply(list(configural, metric, scalar), fitMeasures)
    """
    prepared = _prepare(data, factors, group, "listwise")
    if len(prepared.moments) < 2:
        raise ValueError("measurement invariance needs at least 2 groups")
    fits = {step: _fit(prepared, equal) for step, equal in _STEPS.items()}
    rows: dict[str, dict[str, Any]] = {}
    previous: CfaResult | None = None
    for step, fit in fits.items():
        row: dict[str, Any] = {
            "chisq": fit.chisq,
            "df": fit.df,
            "pvalue": fit.pvalue,
            "cfi": fit.cfi,
            "tli": fit.tli,
            "rmsea": fit.rmsea,
            "srmr": fit.srmr,
            "delta_chisq": math.nan,
            "delta_df": math.nan,
            "p_delta": math.nan,
            "delta_cfi": math.nan,
            "delta_rmsea": math.nan,
            "cfi_ok": None,
            "rmsea_ok": None,
            "holds": None,
            "converged": fit.converged,
        }
        if previous is None:
            row["verdict"] = (
                "configural model: the reference for the next steps "
                f"(CFI = {fit.cfi:.3f}, RMSEA = {fit.rmsea:.3f}, SRMR = {fit.srmr:.3f})"
            )
        else:
            delta_chisq = fit.chisq - previous.chisq
            delta_df = fit.df - previous.df
            delta_cfi = fit.cfi - previous.cfi
            delta_rmsea = fit.rmsea - previous.rmsea
            cfi_ok = bool(delta_cfi >= -DELTA_CFI_MAX)
            rmsea_ok = bool(delta_rmsea <= DELTA_RMSEA_MAX)
            holds = cfi_ok and rmsea_ok and fit.converged
            row.update(
                delta_chisq=delta_chisq,
                delta_df=delta_df,
                p_delta=float(stats.chi2.sf(delta_chisq, delta_df)) if delta_df > 0 else math.nan,
                delta_cfi=delta_cfi,
                delta_rmsea=delta_rmsea,
                cfi_ok=cfi_ok,
                rmsea_ok=rmsea_ok,
                holds=holds,
            )
            row["verdict"] = (
                f"{step} invariance {'holds' if holds else 'does not hold'}: "
                f"ΔCFI = {delta_cfi:+.3f} ({'within' if cfi_ok else 'beyond'} -.01, Cheung & Rensvold 2002), "
                f"ΔRMSEA = {delta_rmsea:+.3f} ({'within' if rmsea_ok else 'beyond'} .015, Chen 2007); "
                f"LRT Δχ² = {delta_chisq:.2f} on {delta_df} df, p = {row['p_delta']:.3g}"
                + ("" if fit.converged else "; the model did not converge")
            )
        rows[step] = row
        previous = fit
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------------------------------
# disattenuated correlations
# ---------------------------------------------------------------------------------------------


def disattenuated_correlations(
    scores: ItemData, reliabilities: Mapping[Any, float] | ArrayLike
) -> pd.DataFrame:
    r"""Subscale correlations corrected for unreliability (Spearman's correction for attenuation).

    .. math::

        \rho_{xy} = \frac{r_{xy}}{\sqrt{rel_x \, rel_y}}

    with :math:`r_{xy}` the Pearson correlation of the subscale scores and :math:`rel` each
    subscale's reliability (e.g. alpha or omega). A value near or above 1 says the two subscales
    measure the same thing as far as the data can tell; values above 1 are kept (not clipped), as
    they signal that the reliabilities are underestimated or the subscales are not distinct.

    Missing data: **pairwise** (each correlation over the rows where both scores are present, as R
    ``cor(use = "pairwise.complete.obs")``).

    Parameters
    ----------
    scores : DataFrame or 2-D array
        One column per subscale score.
    reliabilities : mapping or sequence
        One reliability in (0, 1] per column (a mapping by column name, or in column order).

    Returns
    -------
    DataFrame
        Square, with 1 on the diagonal.

    Raises
    ------
    ValueError
        A reliability missing or outside (0, 1], fewer than 2 columns, a pair with fewer than 2
        shared rows.

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things. *American
    Journal of Psychology*, 15, 72-101.

    Examples
    --------
    Matches R ``cor(x, use = "pairwise.complete.obs") / sqrt(outer(rel, rel))``:

    >>> import numpy as np, pandas as pd
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5.0], "b": [2, 1, 4, 3, 5.0]})
    >>> disattenuated_correlations(x, {"a": 0.8, "b": 0.9}).round(6)
              a         b
    a  1.000000  0.942809
    b  0.942809  1.000000
    """
    matrix = as_item_matrix(scores, min_items=2, what="scores")
    names = matrix.names
    if isinstance(reliabilities, Mapping):
        missing_names = [name for name in names if name not in reliabilities]
        if missing_names:
            raise ValueError(f"no reliability for {missing_names}")
        rel = np.array([float(reliabilities[name]) for name in names])
    else:
        rel = np.asarray(reliabilities, dtype=np.float64).ravel()
        if rel.size != len(names):
            raise ValueError(f"{rel.size} reliabilities for {len(names)} score columns")
    if not np.all((rel > 0) & (rel <= 1)):
        raise ValueError(f"reliabilities must be in (0, 1], got {rel.tolist()}")
    frame = pd.DataFrame(matrix.values, columns=list(range(len(names))))
    counts = frame.notna().astype(float).T @ frame.notna().astype(float)
    if float(counts.to_numpy().min()) < 2:
        raise ValueError("a pair of score columns shares fewer than 2 rows")
    correlation = frame.corr().to_numpy()
    corrected = correlation / np.sqrt(np.outer(rel, rel))
    np.fill_diagonal(corrected, 1.0)
    return pd.DataFrame(corrected, index=names, columns=names)


__all__ = [
    "DELTA_CFI_MAX",
    "DELTA_RMSEA_MAX",
    "EQUALITY_KINDS",
    "CfaGroupResult",
    "CfaResult",
    "cfa",
    "disattenuated_correlations",
    "measurement_invariance",
]
