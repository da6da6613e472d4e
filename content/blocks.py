"""StreamField blocks, all from the NHS.UK design system (wagtail-nhsuk-frontend)."""

from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock
from wagtailnhsukfrontend.blocks import (
    ActionLinkBlock,
    CareCardBlock,
    DetailsBlock,
    DoBlock,
    DontBlock,
    InsetTextBlock,
    WarningCalloutBlock,
)
from wagtailnhsukfrontend.blocks import ImageBlock as NHSImageBlock


class ImageBlock(NHSImageBlock):
    """The NHS.UK image with its alt text required: our readers may use screen readers, and a
    picture that says nothing to them should not be on the page at all."""

    alt_text = blocks.CharBlock(
        required=True,
        help_text="Say what the picture shows, in a few plain words.",
    )

    class Meta:
        template = "wagtailnhsukfrontend/image.html"


class BodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(features=["h2", "h3", "bold", "link", "ol", "ul"])
    inset_text = InsetTextBlock()
    care_card = CareCardBlock()
    warning_callout = WarningCalloutBlock()
    details = DetailsBlock()
    action_link = ActionLinkBlock()
    do_list = DoBlock()
    dont_list = DontBlock()
    image = ImageBlock()


class EasyReadPointBlock(blocks.StructBlock):
    """One easy-read point: a short sentence or two with a picture beside it."""

    text = blocks.TextBlock(
        max_length=200,
        help_text="One idea. Short sentences, everyday words. 200 characters at most.",
    )
    image = ImageChooserBlock(help_text="A clear picture that shows the idea.")
    alt_text = blocks.CharBlock(
        max_length=120, help_text="Say what the picture shows, in a few plain words."
    )

    class Meta:
        icon = "image"
        template = "content/components/easy_read_point.html"


class EasyReadBodyBlock(blocks.StreamBlock):
    point = EasyReadPointBlock()
