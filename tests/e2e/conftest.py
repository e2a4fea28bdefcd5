from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.local_stack import LocalStack, start_local_stack


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = start_local_stack(tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()
