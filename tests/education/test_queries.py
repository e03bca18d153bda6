"""Querysets compiled once (education/queries.py) give what the ORM gives."""

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from education import queries
from education.models import ClinicSettings, Procedure
from education.views import procedure_or_draft, published_procedure

from .factories import make_procedure

pytestmark = pytest.mark.django_db


def test_a_compiled_query_gives_the_same_objects_as_the_orm():
    live = make_procedure(slug="live")
    draft = make_procedure(slug="draft", status=Procedure.Status.DRAFT)
    for make in (published_procedure, procedure_or_draft):
        for slug in ("live", "draft", "missing"):
            got = queries.fetch(make, slug)
            assert [model_to_dict(p) for p in got] == [model_to_dict(p) for p in make(slug)]
    assert queries.fetch(published_procedure, "live") == [live]
    assert queries.fetch(published_procedure, "draft") == []
    assert queries.fetch(procedure_or_draft, "draft") == [draft]
    found = queries.fetch(published_procedure, "live")[0]
    assert not found._state.adding and found._state.db == connection.alias


def test_the_sql_is_compiled_once_and_each_use_is_one_query():
    make_procedure(slug="once")
    queries.fetch(published_procedure, "once")
    before = queries.compiled.cache_info()
    with CaptureQueriesContext(connection) as captured:
        queries.fetch(published_procedure, "once")
        queries.fetch(published_procedure, "other")
    after = queries.compiled.cache_info()
    assert len(captured) == 2
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0)


def test_a_query_must_take_its_argument_exactly_once():
    def twice(pk):
        return Procedure.objects.filter(pk=pk, related=pk)

    def never(pk):
        return Procedure.objects.all()

    for make in (twice, never):
        with pytest.raises(ValueError, match=make.__name__):
            queries.compiled(make)


def test_the_clinic_settings_come_from_the_saved_row_or_the_placeholders(settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    unsaved = ClinicSettings.load()
    assert unsaved.pk == 1 and unsaved.name == settings.CLINIC_NAME
    ClinicSettings(name="North Clinic", phone="555-0100").save()
    saved = ClinicSettings.load()
    assert (saved.name, saved.phone, saved._state.adding) == ("North Clinic", "555-0100", False)


def test_instances_are_what_from_db_makes():
    from education.content import TEXT_BLOCKS

    from .factories import fill_procedure

    procedure = fill_procedure(make_procedure(slug="filled"), 2)
    models = [*TEXT_BLOCKS.values(), Procedure, ClinicSettings]
    for model in models:
        names = [f.attname for f in model._meta.concrete_fields]
        rows = list(model.objects.values_list(*names))
        ours = queries.instances(model, names, rows)
        django = [model.from_db(connection.alias, names, row) for row in rows]
        assert [vars(o) | {"_state": None} for o in ours] == [
            vars(d) | {"_state": None} for d in django
        ], model
        for instance in ours:
            assert (instance._state.adding, instance._state.db) == (False, connection.alias)
            assert instance._state.fields_cache == {}
    assert procedure.sections.exists()


def test_instances_go_through_from_db_when_a_signal_listens():
    from django.db.models.signals import post_init

    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.slug)

    make_procedure(slug="heard")
    post_init.connect(listener, sender=Procedure)
    try:
        found = queries.fetch(published_procedure, "heard")
    finally:
        post_init.disconnect(listener, sender=Procedure)
    assert seen == ["heard"] and found[0].slug == "heard"
