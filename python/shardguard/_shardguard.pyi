from typing import Any, Optional

import pyarrow as pa

__version__: str
AVAILABLE_DETECTORS: list[str]

class ShardguardError(Exception): ...
class SchemaError(ShardguardError): ...
class ShardError(ShardguardError): ...
class InputError(ShardguardError): ...
class ConfigError(ShardguardError): ...
class OutputError(ShardguardError): ...

class _Auditor:
    def __new__(
        cls,
        *,
        detectors: list[str],
        text_column: str,
        id_column: Optional[str],
        label_column: Optional[str],
        reveal: bool,
        key_hex: str,
        key_is_user: bool,
        threads: Optional[int],
        batch_size: int,
        on_shard_error: str,
        on_bad_line: str,
    ) -> _Auditor: ...
    def scan(self, data: Any, *, shard: str, first_row: int) -> tuple[pa.Table, pa.Table]: ...
    def audit(
        self, inputs: list[str], out: Optional[str] = None
    ) -> tuple[Optional[pa.Table], Optional[pa.Table], str]: ...

def random_key_hex() -> str: ...
def _text_buffer_address(data: Any, column: str) -> int: ...
