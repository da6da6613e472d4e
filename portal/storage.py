"""Static file storage: whitenoise's compressed, hashed files."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    kept = []
    for extension, rules in patterns:
        rules = tuple(
            rule
            for rule in rules
            if "sourceMappingURL" not in (rule[0] if isinstance(rule, tuple) else rule)
        )
        kept.append((extension, rules))
    return tuple(kept)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """wagtail-nhsuk-frontend's minified files name source maps that it does not ship, so
    source-map references are left alone instead of failing collectstatic."""

    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
