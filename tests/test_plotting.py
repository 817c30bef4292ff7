from llm_finetune.plotting import draw_learning_rate, draw_loss_curves, logged_series, new_figure

HISTORY = [
    {"step": 1, "loss": 2.0, "learning_rate": 1e-5},
    {"step": 2, "loss": 1.5, "learning_rate": 5e-6},
    {"step": 2, "eval_loss": 1.8},
    {"step": 2, "train_loss": 1.7, "train_runtime": 1.0},
]


def test_logged_series_picks_one_key():
    assert logged_series({"log_history": HISTORY}, "loss") == ([1, 2], [2.0, 1.5])
    assert logged_series({"log_history": HISTORY}, "eval_loss") == ([2], [1.8])
    assert logged_series({}, "loss") == ([], [])


def test_loss_curves_and_empty_history():
    ax = new_figure((4, 3)).subplots()
    draw_loss_curves(ax, {"log_history": HISTORY})
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["train loss"].get_xdata()) == [1, 2]
    assert list(lines["eval loss"].get_ydata()) == [1.8]
    empty = new_figure((4, 3)).subplots()
    draw_loss_curves(empty, {"log_history": []})
    assert not empty.get_lines() and empty.texts[0].get_text() == "no loss logged"


def test_learning_rate_curve():
    ax = new_figure((4, 3)).subplots()
    draw_learning_rate(ax, {"log_history": HISTORY})
    assert list(ax.get_lines()[0].get_ydata()) == [1e-5, 5e-6]
