"""Encrypted model fields.

A model with encrypted fields says whose key seals them by defining
`data_key_owner(self) -> (scope, owner_id)`; a client's rows use the client's own DEK so that
destroying that key erases the client everywhere. Each value is sealed with associated data
naming its table, column and primary key (see `careledger.crypto.aead`).

How it works: values read from the database arrive as `Sealed` and are opened lazily, on first
attribute access, by the descriptor (which, unlike `from_db_value`, knows the row). Assigning a
plain string marks the value for sealing in `pre_save`, which also knows the row. An unchanged
value is written back as the same token. Writing plaintext through `QuerySet.update()` or
filtering by plaintext is refused: there is no row to bind it to, and equality search belongs to
the blind index.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from careledger.crypto import aead, keyring


class Sealed:
    """A token as read from the database; deliberately not a `str`, so it never renders."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "Sealed(…)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


def binding_for(instance: models.Model, field: models.Field) -> aead.Binding:
    if instance.pk is None:
        raise ValueError("encrypted fields need the primary key set before saving (UUID pk)")
    return aead.Binding(instance._meta.db_table, field.column, str(instance.pk))


def seal_value(instance: models.Model, field: models.Field, plaintext: str) -> str:
    scope, owner_id = instance.data_key_owner()  # type: ignore[attr-defined]
    key = keyring.current(scope, owner_id)
    return aead.seal(key.material, key.id, plaintext.encode("utf-8"), binding_for(instance, field))


def open_value(instance: models.Model, field: models.Field, token: str) -> str:
    key = keyring.by_id(aead.key_id_of(token))
    return aead.open_sealed(key, token, binding_for(instance, field)).decode("utf-8")


class _EncryptedAttribute:
    def __init__(self, field: EncryptedTextField) -> None:
        self.field = field
        self.cache_name = f"_plain_{field.attname}"

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if not isinstance(value, Sealed):
            return value
        cached = instance.__dict__.get(self.cache_name)
        if cached is not None and cached[0] is value:
            return cached[1]
        plaintext = open_value(instance, self.field, value.token)
        instance.__dict__[self.cache_name] = (value, plaintext)
        return plaintext

    def __set__(self, instance: Any, value: Any) -> None:
        current = instance.__dict__.get(self.field.attname)
        cached = instance.__dict__.get(self.cache_name)
        if isinstance(current, Sealed) and cached and cached[0] is current and cached[1] == value:
            return  # assigning the same plaintext back keeps the existing token
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text sealed with AES-256-GCM under the row owner's data key. Blank stays blank."""

    descriptor_class = _EncryptedAttribute

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return Sealed(value)

    def to_python(self, value: Any) -> Any:
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or value == "" or isinstance(value, Sealed):
            return value
        if not isinstance(value, str):
            raise TypeError(f"{self.attname} takes text, got {type(value).__name__}")
        sealed = Sealed(seal_value(model_instance, self, value))
        # Keep the token on the instance so a second save does not seal again, and remember
        # the plaintext so reading it back costs nothing.
        model_instance.__dict__[self.attname] = sealed
        model_instance.__dict__[f"_plain_{self.attname}"] = (sealed, value)
        return sealed

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "":
            return value
        if isinstance(value, Sealed):
            return value.token
        raise TypeError(
            f"{self.attname} is encrypted: it can only be written through a model save, "
            "and searched through its blind index"
        )

    def value_to_string(self, obj: models.Model) -> str:
        raise TypeError("encrypted fields are never serialised in plaintext")
