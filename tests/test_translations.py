"""The Spanish catalog (locale/es/): complete, reviewed, compiled, and its placeholders
the same as the English ones. `make messages` brings it up to date (scripts/messages.py)."""

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from scripts import messages

pytestmark = pytest.mark.parametrize("language", messages.LANGUAGES)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Every string the site marks for translation, as the code says it today."""
    template = tmp_path_factory.mktemp("messages") / "django.pot"
    messages.extract(template)
    with template.open("rb") as file:
        return read_po(file)


def catalog(language):
    with messages.catalog_path(language).open("rb") as file:
        return read_po(file, locale=language)


def plain(value):
    """A plural message's id and strings are lists or tuples, as Babel read them."""
    return tuple(value) if isinstance(value, list | tuple) else value


def translated(message):
    strings = message.string if message.pluralizable else [message.string]
    return all(strings)


def message_ids(catalog):
    return {plain(message.id) for message in catalog if message.id}


def test_every_message_of_the_site_is_in_the_catalog(extracted, language):
    missing = message_ids(extracted) - message_ids(catalog(language))
    assert not missing, f"run `make messages`, then translate: {sorted(missing, key=str)[:10]}"


def test_the_catalog_holds_no_message_the_site_no_longer_uses(extracted, language):
    unused = message_ids(catalog(language)) - message_ids(extracted)
    assert not unused, f"run `make messages`: {sorted(unused, key=str)[:10]}"


def test_every_message_is_translated_and_none_is_fuzzy(language):
    untranslated, fuzzy = [], []
    for message in catalog(language):
        if not message.id:
            continue
        if not translated(message):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert not untranslated, f"{len(untranslated)} with no translation: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} marked fuzzy (check, then remove the flag): {fuzzy[:10]}"


def test_every_translation_keeps_the_placeholders_of_its_english(language):
    """A %(name)s missing or misspelled in the Spanish would break the page."""
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in catalog(language).check()
        for error in errors
    ]
    assert not problems, problems


def test_the_compiled_catalog_is_the_catalog(language):
    """django.mo (what Django reads) says what django.po says: `make messages`."""
    compiled_path = messages.catalog_path(language).with_suffix(".mo")
    with compiled_path.open("rb") as file:
        compiled = {
            plain(message.id): plain(message.string) for message in read_mo(file) if message.id
        }
    written = {
        plain(message.id): plain(message.string)
        for message in catalog(language)
        if message.id and not message.fuzzy and translated(message)
    }
    compiled_written = {key: value for key, value in compiled.items() if key in written}
    assert compiled_written == written, "run `make messages` (or scripts/messages.py --compile)"
