"""Mathematics for the reports: sympy expressions as presentation MathML (HTML) and LaTeX
(GitHub Markdown math), with the spec vocabulary's symbols shown as the notes write them."""
from __future__ import annotations

import functools
import re

import sympy as sp

# name -> (LaTeX, plain Unicode used inside MathML <mi>); names not listed print as sympy does
# (Greek letters become Greek, a trailing digit becomes a subscript).
_DISPLAY = {
    "Lstar": (r"L^{\ast}", "L*"),
    "J": (r"J", "J"),
    "gamma": (r"\gamma", "\u03b3"),
    "sum_subopt": (r"\sum_{t=1}^{T} \left(L(w_t) - L^{\ast}\right)", "\u2211\u209c (L(w\u209c) \u2212 L*)"),
    "sum_grad_sq": (r"\sum_{t=1}^{T} \lVert \nabla L(w_t) \rVert^{2}", "\u2211\u209c \u2016\u2207L(w\u209c)\u2016\u00b2"),
    "sum_grad_norm": (r"\sum_{t=1}^{T} \lVert \nabla L(w_t) \rVert", "\u2211\u209c \u2016\u2207L(w\u209c)\u2016"),
    "avg_iterate_subopt": (r"\left(L(\bar w_T) - L^{\ast}\right)", "(L(w\u0305) \u2212 L*)"),
    "last_subopt": (r"\left(L(w_{T+1}) - L^{\ast}\right)", "(L(w\u209c\u208a\u2081) \u2212 L*)"),
    "L1": (r"L(w_1)", "L(w\u2081)"),
    "L_t": (r"L(w_t)", "L(w\u209c)"),
    "L_next": (r"L(w_{t+1})", "L(w\u209c\u208a\u2081)"),
    "grad_sq_t": (r"\lVert \nabla L(w_t) \rVert^{2}", "\u2016\u2207L(w\u209c)\u2016\u00b2"),
    "L_w": (r"L(w)", "L(w)"),
    "L_wv": (r"L(w + v)", "L(w+v)"),
    "grad_sq_w": (r"\lVert \nabla L(w) \rVert^{2}", "\u2016\u2207L(w)\u2016\u00b2"),
    "inner_grad_v": (r"\langle \nabla L(w), v \rangle", "\u27e8\u2207L(w), v\u27e9"),
    "v_sq": (r"\lVert v \rVert^{2}", "\u2016v\u2016\u00b2"),
    "dist_sq_w": (r"\lVert w - w^{\ast} \rVert^{2}", "\u2016w \u2212 w*\u2016\u00b2"),
    "noise_sq_w": (r"\lVert g - \nabla L(w) \rVert^{2}", "\u2016g \u2212 \u2207L(w)\u2016\u00b2"),
    "min_grad_sq": (r"\min_{t \le T} \lVert \nabla L(w_t) \rVert^{2}", "min\u209c \u2016\u2207L(w\u209c)\u2016\u00b2"),
    "grad_sq_1": (r"\lVert \nabla L(w_1) \rVert^{2}", "\u2016\u2207L(w\u2081)\u2016\u00b2"),
    "noise_var_t": (r"\sigma_t^{2}", "\u03c3\u209c\u00b2"),
    "sum_noise_var": (r"\sum_{t=1}^{T} \sigma_t^{2}", "\u2211\u209c \u03c3\u209c\u00b2"),
    "coupled_dist": (r"\lVert w_{T+1} - w'_{T'+1} \rVert", "\u2016w\u209c\u208a\u2081 \u2212 w'\u2016"),
    "oracle_bias_w": (r"(g - \nabla L(w))_i", "(g \u2212 \u2207L(w))\u1d62"),
    "grad_diff_sq": (r"\lVert \nabla L(w+v) - \nabla L(w) \rVert^{2}", "\u2016\u2207L(w+v) \u2212 \u2207L(w)\u2016\u00b2"),
    "hess_v_sq": (r"\lVert \nabla^2 L(w) v \rVert^{2}", "\u2016\u2207\u00b2L(w) v\u2016\u00b2"),
    "hess_power_sq": (r"\lVert \nabla^2 L(w) u \rVert^{2}", "\u2016\u2207\u00b2L(w) u\u2016\u00b2"),
    "curv_v": (r"\langle v, \nabla^2 L(w) v \rangle", "\u27e8v, \u2207\u00b2L(w) v\u27e9"),
    "H_env": (r"H_{\mathrm{env}}", "H\u2091\u2099\u1d65"),
    "env_grad_diff": (r"\lVert \nabla \hat L(w+v) - \nabla \hat L(w) \rVert", "\u2016\u2207L\u0302(w+v) \u2212 \u2207L\u0302(w)\u2016"),
    "env_w_lo": (r"\hat L(w)^{-}", "L\u0302(w)\u207b"),
    "env_w_hi": (r"\hat L(w)^{+}", "L\u0302(w)\u207a"),
    "env_wv_lo": (r"\hat L(w+v)^{-}", "L\u0302(w+v)\u207b"),
    "env_wv_hi": (r"\hat L(w+v)^{+}", "L\u0302(w+v)\u207a"),
    "env_wmv_lo": (r"\hat L(w-v)^{-}", "L\u0302(w\u2212v)\u207b"),
    "env_wmv_hi": (r"\hat L(w-v)^{+}", "L\u0302(w\u2212v)\u207a"),
    "env_certified": (r"\mathbb{1}[\hat L \text{ certified}]", "1[L\u0302 certified]"),
    "E_X1": (r"\mathbb{E}[X_1]", "E[X\u2081]"),
    "var_X1": (r"\mathrm{Var}[X_1]", "Var[X\u2081]"),
    "E_sq_dist_Y": (r"\mathbb{E}\lVert X - Y \rVert^{2}", "E\u2016X \u2212 Y\u2016\u00b2"),
    "bias_sq": (r"\lVert Y - \mathbb{E} X \rVert^{2}", "\u2016Y \u2212 EX\u2016\u00b2"),
    "var_X": (r"\mathbb{E}\lVert X - \mathbb{E} X \rVert^{2}", "E\u2016X \u2212 EX\u2016\u00b2"),
    "E_AB": (r"\mathbb{E}[AB]", "E[AB]"),
    "E_A_sq": (r"\mathbb{E}[A^{2}]", "E[A\u00b2]"),
    "E_B_sq": (r"\mathbb{E}[B^{2}]", "E[B\u00b2]"),
    "Ef_X": (r"\mathbb{E} f(X)", "E f(X)"),
    "f_EX": (r"f(\mathbb{E} X)", "f(EX)"),
    "P_X_ge_y": (r"P[X_1 \ge y]", "P[X\u2081 \u2265 y]"),
    "P_dev_ge_y": (r"P[|X_1 - \mathbb{E} X_1| \ge y]", "P[|X\u2081 \u2212 EX\u2081| \u2265 y]"),
}


def _latex_names(expr: sp.Basic) -> dict:
    return {s: _DISPLAY[s.name][0] for s in expr.free_symbols if s.name in _DISPLAY}


@functools.lru_cache(maxsize=None)
def latex(expr: sp.Basic) -> str:
    """LaTeX of ``expr`` for GitHub's ``$...$`` math (no ``|``, which would end a table cell,
    and no bare ``*``, which GitHub's Markdown may read as emphasis)."""
    expr = sp.sympify(expr)
    text = sp.latex(expr, symbol_names=_latex_names(expr))
    return text.replace("|", r"\vert ").replace("*", r"\ast ")


@functools.lru_cache(maxsize=None)
def mathml(expr: sp.Basic, display: bool = False) -> str:
    """``expr`` as one ``<math>`` element of presentation MathML (rendered natively by browsers)."""
    expr = sp.sympify(expr)
    shown = expr.xreplace({s: sp.Symbol(_DISPLAY[s.name][1], **s.assumptions0)
                           for s in expr.free_symbols if s.name in _DISPLAY})
    body = sp.mathml(shown, printer="presentation")
    # sympy writes HTML named entities; spell them as numeric references so the XML is valid anywhere
    body = body.replace("&InvisibleTimes;", "&#8290;").replace("&ApplyFunction;", "&#8289;")
    body = re.sub(r"&(?!#|amp;|lt;|gt;|quot;|apos;)([A-Za-z]+);", lambda m: _entity(m.group(1)), body)
    mode = "block" if display else "inline"
    return f'<math display="{mode}">{body}</math>'


def _entity(name: str) -> str:
    import html.entities
    code = html.entities.name2codepoint.get(name)
    return f"&#{code};" if code is not None else f"&amp;{name};"


def relation(measured: sp.Basic, bound: sp.Basic) -> sp.Basic:
    """``measured <= bound`` unevaluated, as the claim states it."""
    return sp.Le(sp.sympify(measured), sp.sympify(bound), evaluate=False)
