"""Production: refuses to start with a weak or published SECRET_KEY (config/secret_key.py) or DEBUG on."""

from django.core.exceptions import ImproperlyConfigured

from config.secret_key import refusal_message, secret_key_problems

from .base import *  # noqa: F403
from .base import SECRET_KEY, SECRET_KEY_FALLBACKS
from .env import env_bool, env_int

if problems := secret_key_problems(SECRET_KEY, SECRET_KEY_FALLBACKS):
    raise ImproperlyConfigured(refusal_message(problems))
if env_bool("DJANGO_DEBUG", default=False):
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")
DEBUG = False

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)  # seconds; turn on once TLS is in place
