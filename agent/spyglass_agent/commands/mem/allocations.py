"""mem top: the source lines that allocated the most over an interval, by tracemalloc,
started for the interval only (left running if the target had started it)."""

import time


def sleep_unless(seconds, should_stop):
    """Sleeps in short steps; False when stopped early."""
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return True
        if should_stop():
            return False
        time.sleep(min(left, 0.1))


def top_lines(interval, limit, should_stop, agent_dir):
    """Source lines with the most net allocation over the interval, by tracemalloc."""
    import tracemalloc

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start(1)
    try:
        ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, agent_dir + '/*')]
        before = tracemalloc.take_snapshot().filter_traces(ignore)
        completed = sleep_unless(interval, should_stop)
        after = tracemalloc.take_snapshot().filter_traces(ignore)
    finally:
        if not was_tracing:
            tracemalloc.stop()
    stats = after.compare_to(before, 'lineno')
    rows = []
    for st in stats:
        if st.size_diff <= 0:
            continue
        frame = st.traceback[0]
        rows.append(
            {
                'file': frame.filename,
                'line': frame.lineno,
                'code': _source_line(frame.filename, frame.lineno),
                'size_delta': st.size_diff,
                'count_delta': st.count_diff,
                'size': st.size,
                'count': st.count,
            }
        )
        if len(rows) >= limit:
            break
    return {
        'rows': rows,
        'interval': interval,
        'completed': completed,
        'already_tracing': was_tracing,
        'size_delta': sum(s.size_diff for s in stats),
    }


def _source_line(filename, lineno):
    import linecache

    return linecache.getline(filename, lineno).strip()
