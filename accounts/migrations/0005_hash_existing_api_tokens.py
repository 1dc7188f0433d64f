"""Move DRF's plain-text tokens into ApiToken as SHA-256 digests, then delete the plain keys.

Every existing token keeps working (its key hashes to the stored digest) and is given a full
API_TOKEN_TTL_HOURS from the time of the migration. There is no way back: the keys are gone.
"""
import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def hash_existing_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    for token in Token.objects.all().iterator():
        digest = hashlib.sha256(token.key.encode()).hexdigest()
        if not ApiToken.objects.filter(key_hash=digest).exists():
            ApiToken.objects.create(
                user_id=token.user_id, key_hash=digest, prefix=token.key[:8], created_at=token.created,
                expires_at=expires_at,
            )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens_and_signin_guard"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(hash_existing_tokens, migrations.RunPython.noop)]
