from django import template

register = template.Library()


@register.simple_tag
def breadcrumb_pages(page) -> list:
    """The page's ancestors below the tree root (home first), in one query."""
    return list(page.get_ancestors().filter(depth__gt=1))
