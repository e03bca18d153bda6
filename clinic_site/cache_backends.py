"""The shared page cache on Redis, for a site on more than one app host.

`FailOpenRedisCache` is Django's own Redis backend with two changes:

- **It fails open.** With Redis down or slow, a read is a miss and a write or clear is
  skipped (each logged), so pages are rendered from the database and served: a patient
  never gets an error page because of the cache. The socket time-outs in settings keep a
  dead Redis from holding a request up for long.
- **`clear()` deletes only this cache's keys** (those under its KEY_PREFIX), where
  Django's backend empties the whole Redis database (FLUSHDB), which may hold other
  things: the clinic's other sites, a session store, a queue.
"""

import logging

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# Keys deleted per round trip when clearing.
CLEAR_BATCH = 500


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.location = server if isinstance(server, str) else server[0]
        self.options = params.get("OPTIONS", {})

    def cache_failed(self, action, error):
        # The error names the Redis address and what went wrong; never a page or a key.
        logger.warning("Page cache unavailable (%s skipped): %s", action, error)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except redis.RedisError as error:
            self.cache_failed("read", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except redis.RedisError as error:
            self.cache_failed("read", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except redis.RedisError as error:
            self.cache_failed("read", error)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except redis.RedisError as error:
            self.cache_failed("write", error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except redis.RedisError as error:
            self.cache_failed("write", error)
            return False

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except redis.RedisError as error:
            self.cache_failed("write", error)
            return list(data)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except redis.RedisError as error:
            self.cache_failed("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except redis.RedisError as error:
            self.cache_failed("delete", error)

    def clear(self):
        """Delete every key under this cache's prefix, and nothing else.

        When Redis cannot be reached, the pages it holds stay until it is back and their
        time-out runs (settings: an hour), so the failure is logged as an error.
        """
        try:
            client = redis.Redis.from_url(self.location, **self.options)
            with client:
                batch = []
                for key in client.scan_iter(match=f"{self.key_prefix}:*", count=CLEAR_BATCH):
                    batch.append(key)
                    if len(batch) == CLEAR_BATCH:
                        client.unlink(*batch)
                        batch = []
                if batch:
                    client.unlink(*batch)
        except redis.RedisError as error:
            logger.error(
                "Page cache could not be emptied: pages may be out of date for up to an "
                "hour after Redis is back (or run manage.py clear_page_cache then): %s",
                error,
            )
            return False
        return True
