"""The reader's fixed vocabulary helpers, as many request threads call them at once."""

import sys
import threading

from service.reader.lexicon import content_stems, stem


def test_stemming_from_many_threads_gives_what_one_thread_gives():
    # A snowball stemmer keeps the word it is working on in the object: shared across threads, one thread's word
    # is cut by another's cursor (IndexError, or a wrong stem). Unique words so the cache cannot hide it.
    suffixes = ("ing", "ed", "ations", "ness", "fully", "ies", "ement")
    batches = [[f"w{t}x{i}q{suffixes[i % len(suffixes)]}" for i in range(3000)] for t in range(8)]
    expected = [[stem.__wrapped__(w) for w in batch] for batch in batches]
    stem.cache_clear()
    got: list[list[str] | None] = [None] * len(batches)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            got[t] = [stem(w) for w in batches[t]]
        except BaseException as exc:  # noqa: BLE001 - every failure is a finding
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows, so a race shows every run
    try:
        threads = [threading.Thread(target=run, args=(t,)) for t in range(len(batches))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[:3]
    assert got == expected


def test_content_stems_drop_stop_words_and_keep_numbers():
    assert content_stems("The ministers were meeting in 2024") == ["minist", "meet", "2024"]
