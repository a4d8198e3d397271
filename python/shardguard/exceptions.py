"""Exceptions raised by shardguard. Every one derives from :class:`ShardguardError`."""

from shardguard._shardguard import (
    ConfigError,
    InputError,
    OutputError,
    SchemaError,
    ShardError,
    ShardguardError,
)

__all__ = ["ShardguardError", "SchemaError", "ShardError", "InputError", "ConfigError", "OutputError"]
