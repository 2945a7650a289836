"""Figures write their numbers as the run's language does (core.plotting.localized)."""

from analysis.core.plotting import localized, plt


def _tick_texts(fig):
    fig.canvas.draw()
    ax = fig.axes[0]
    return [t.get_text() for t in ax.get_xticklabels()], [t.get_text() for t in ax.get_yticklabels()]


def test_indonesian_figures_use_decimal_commas_and_keep_category_labels():
    for lang, decimal in (("id", ","), ("en", ".")):
        fig, ax = plt.subplots()
        ax.bar(["Pengembangan Diri, Orang Lain", "M.01"], [0.25, 0.5])
        x, y = _tick_texts(localized(fig, lang))
        plt.close(fig)
        assert x == ["Pengembangan Diri, Orang Lain", "M.01"]  # text, not numbers: untouched
        assert any(decimal in label for label in y) and not any(("." if lang == "id" else ",") in v for v in y)


def test_thousands_in_indonesian_ticks_use_dots():
    fig, ax = plt.subplots()
    ax.plot([0, 10_000], [0, 1])
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    x, _ = _tick_texts(localized(fig, "id"))
    plt.close(fig)
    assert "10.000" in x


def test_tick_labels_given_as_text_keep_their_dots():
    fig, ax = plt.subplots()
    ax.imshow([[0.0, 1.0], [2.0, 3.0]])
    ax.set_yticks(range(2), ["M.01 Integritas", "M.02"])
    _, y = _tick_texts(localized(fig, "id"))
    plt.close(fig)
    assert y == ["M.01 Integritas", "M.02"]
