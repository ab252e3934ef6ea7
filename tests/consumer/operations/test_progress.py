from __future__ import annotations

import io

from consumer.operations.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar() -> None:
    stream = Terminal()
    with progress("replay", 200, stream=stream) as advance:
        for _ in range(4):
            advance(50)
    text = stream.getvalue()
    assert "replay" in text
    assert "200/200" in text


def test_a_pipe_gets_plain_periodic_lines_and_a_last_one() -> None:
    stream = io.StringIO()
    with progress("replay", 200, stream=stream, interval_s=0.0) as advance:
        advance(50)
        advance(150)
    assert stream.getvalue().splitlines() == [
        "replay: 50/200 (25%)",
        "replay: 200/200 (100%)",
        "replay: 200/200 (100%) done",
    ]


def test_reads_that_want_no_lines_stay_silent_on_a_pipe() -> None:
    stream = io.StringIO()
    with progress("reading", 10, stream=stream, plain_lines=False) as advance:
        advance(10)
    assert stream.getvalue() == ""
