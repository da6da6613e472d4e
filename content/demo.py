"""Fictional demo content for the information site: guidance with easy-read twins, three
anonymised case studies with consent records, and the service directory.

Facts come from the public L&D documents in the project's seeds (what L&D does, who it is for,
supported attendance at appointments, the peer support model). No statistics. Case studies are
composites with generic first names, no places and no dates of offences.

Idempotent: a page, image or consent record that already exists is left as it is (editors may
have changed it), so running this twice creates nothing new.
"""

from __future__ import annotations

import datetime
import io

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.models import Page

from .models import (
    Audience,
    CaseStudyIndexPage,
    CaseStudyPage,
    EasyReadPage,
    GuidanceIndexPage,
    GuidancePage,
    HomePage,
    PublicationConsent,
    ServiceDirectoryPage,
    Stage,
)
from .services import editorial_groups_setup

# --- Pictures for easy read ------------------------------------------------------------------
# Simple pictograms drawn here, so the demo needs no image files and no network.

BLUE = (0, 94, 184)
DARK = (33, 43, 50)
PALE = (232, 237, 238)
WHITE = (255, 255, 255)
SIZE = 240
# Must match content/templates/content/components/easy_read_point.html.
EASY_READ_RENDITION = "fill-240x240"


def _person(draw: ImageDraw.ImageDraw, x: int, scale: float = 1.0, colour=BLUE) -> None:
    r = int(26 * scale)
    draw.ellipse((x - r, 60 - r + 20, x + r, 60 + r + 20), fill=colour)
    draw.rounded_rectangle(
        (x - int(44 * scale), 120, x + int(44 * scale), 200), radius=int(30 * scale), fill=colour
    )


def _draw(kind: str) -> ImageDraw.ImageDraw:
    image = PILImage.new("RGB", (SIZE, SIZE), PALE)
    draw = ImageDraw.Draw(image)
    if kind == "person":
        _person(draw, 120)
    elif kind == "two-people":
        _person(draw, 80, 0.85)
        _person(draw, 160, 0.85, DARK)
    elif kind == "phone":
        draw.rounded_rectangle((80, 30, 160, 210), radius=16, fill=DARK)
        draw.rectangle((90, 50, 150, 170), fill=WHITE)
        draw.ellipse((112, 180, 128, 196), fill=WHITE)
    elif kind == "calendar":
        draw.rectangle((40, 60, 200, 200), fill=WHITE, outline=DARK, width=6)
        draw.rectangle((40, 60, 200, 95), fill=BLUE)
        for row in range(3):
            for col in range(4):
                x, y = 58 + col * 36, 110 + row * 30
                draw.rectangle((x, y, x + 20, y + 18), fill=DARK if (row, col) == (1, 2) else PALE)
    elif kind == "building":
        draw.polygon([(30, 90), (120, 30), (210, 90)], fill=DARK)
        for x in (50, 95, 140, 185):
            draw.rectangle((x - 10, 100, x + 10, 180), fill=BLUE)
        draw.rectangle((30, 185, 210, 205), fill=DARK)
    elif kind == "talk":
        draw.rounded_rectangle((30, 40, 170, 130), radius=24, fill=BLUE)
        draw.polygon([(60, 125), (50, 165), (95, 128)], fill=BLUE)
        draw.rounded_rectangle((100, 110, 215, 185), radius=20, fill=DARK)
        draw.polygon([(180, 180), (195, 215), (160, 183)], fill=DARK)
    elif kind == "heart":
        draw.ellipse((45, 55, 125, 135), fill=BLUE)
        draw.ellipse((115, 55, 195, 135), fill=BLUE)
        draw.polygon([(50, 110), (190, 110), (120, 200)], fill=BLUE)
    elif kind == "bus":
        draw.rounded_rectangle((40, 50, 200, 180), radius=18, fill=BLUE)
        draw.rectangle((55, 70, 185, 120), fill=WHITE)
        draw.ellipse((60, 165, 95, 200), fill=DARK)
        draw.ellipse((145, 165, 180, 200), fill=DARK)
    elif kind == "help":
        draw.ellipse((30, 30, 210, 210), fill=(218, 41, 28))
        draw.rectangle((105, 60, 135, 180), fill=WHITE)
        draw.rectangle((60, 105, 180, 135), fill=WHITE)
    elif kind == "paper":
        draw.rectangle((60, 30, 180, 210), fill=WHITE, outline=DARK, width=6)
        for y in (70, 100, 130, 160):
            draw.line((80, y, 160, y), fill=DARK, width=6)
    draw.image = image
    return draw


PICTURES = {
    "person": "A person",
    "two-people": "Two people together",
    "phone": "A mobile phone",
    "calendar": "A calendar with one day marked",
    "building": "A large public building",
    "talk": "Two speech bubbles",
    "heart": "A heart",
    "bus": "A bus",
    "help": "A red circle with a white cross",
    "paper": "A sheet of paper with writing",
}


def _pictures() -> dict[str, object]:
    Image = get_image_model()
    found = {}
    for kind, description in PICTURES.items():
        title = f"Easy read picture: {description.lower()}"
        image = Image.objects.filter(title=title).first()
        if image is None:
            buffer = io.BytesIO()
            _draw(kind).image.save(buffer, format="PNG", optimize=True)
            image = Image(title=title, file=ImageFile(buffer, name=f"easy-read-{kind}.png"))
            image.full_clean()
            image.save()
        image.get_rendition(EASY_READ_RENDITION)  # made now, not by the first readers at once
        found[kind] = image
    return found


# --- Guidance --------------------------------------------------------------------------------


def _p(*paragraphs: str) -> tuple[str, str]:
    return ("paragraph", "".join(f"<p>{text}</p>" for text in paragraphs))


def _h2(heading: str, *paragraphs: str) -> tuple[str, str]:
    return ("paragraph", f"<h2>{heading}</h2>" + "".join(f"<p>{t}</p>" for t in paragraphs))


def _inset(text: str) -> tuple[str, dict]:
    return ("inset_text", {"body": f"<p>{text}</p>"})


def _list(heading: str, items: list[str]) -> tuple[str, str]:
    return (
        "paragraph",
        f"<h2>{heading}</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>",
    )


GUIDANCE = [
    {
        "slug": "what-is-liaison-and-diversion",
        "title": "What is liaison and diversion?",
        "audience": Audience.ADULTS,
        "stage": Stage.CUSTODY,
        "intro": "Liaison and Diversion teams are NHS staff. They work at police stations and "
        "courts. They help people who may need support.",
        "body": [
            _h2(
                "Who the team can help",
                "The team helps people of all ages. Children and young people can get help too.",
            ),
            _list(
                "They can help if you have",
                [
                    "a mental health need",
                    "a learning disability or autism",
                    "a problem with drugs or alcohol",
                    "other things that make life hard, like having nowhere to live",
                ],
            ),
            _h2(
                "What the team does",
                "They talk with you to find out what help you need. Then they can refer you to "
                "a service that can help. This might be a mental health team, a drug and "
                "alcohol service, your GP or a housing service.",
                "The team does not give treatment itself. Its job is to find out what you need "
                "and help you get it.",
            ),
            _inset(
                "The team can also tell the police and the court about your needs. This helps "
                "them make fair choices. They will ask you first when they need your consent."
            ),
        ],
        "easy": [
            ("Liaison and Diversion is a team of NHS staff.", "person"),
            ("They work at police stations and at courts.", "building"),
            ("They help people who may need support with their health.", "heart"),
            ("They talk with you about what help you need.", "talk"),
            ("Then they can help you get that help.", "two-people"),
        ],
    },
    {
        "slug": "what-happens-in-police-custody",
        "title": "What happens in police custody",
        "audience": Audience.ADULTS,
        "stage": Stage.CUSTODY,
        "intro": "Being held at a police station can be scary. This page says what may happen "
        "and how the Liaison and Diversion team can help.",
        "body": [
            _h2(
                "When you arrive",
                "A custody officer will ask you some questions. Some are about your health. "
                "Tell them if you take medicine or if you feel unwell.",
            ),
            _h2(
                "Meeting the Liaison and Diversion team",
                "Someone from the team may come to talk with you. They will ask how you are "
                "and if you need any help. You can also ask to see them.",
                "They may help the police understand your needs. For example, you may need "
                "things explained more slowly.",
            ),
            (
                "do_list",
                {
                    "heading_level": 3,
                    "label": "Do",
                    "do": [
                        "<p>tell staff if you do not understand something</p>",
                        "<p>tell staff about any medicine you take</p>",
                        "<p>ask for a solicitor. It is free</p>",
                    ],
                },
            ),
            (
                "dont_list",
                {
                    "heading_level": 3,
                    "label": "Don't",
                    "dont": [
                        "<p>do not sign anything you do not understand</p>",
                        "<p>do not keep it to yourself if you feel unwell</p>",
                    ],
                },
            ),
        ],
        "easy": [
            ("The police may keep you at a police station for a while.", "building"),
            ("Staff will ask about your health. Tell them if you take medicine.", "talk"),
            ("A person from the Liaison and Diversion team may come to see you.", "person"),
            ("You can ask for a solicitor. This is free.", "paper"),
            ("Say if you do not understand. Staff should explain again.", "talk"),
        ],
    },
    {
        "slug": "going-to-court",
        "title": "Going to court",
        "audience": Audience.ADULTS,
        "stage": Stage.COURT,
        "intro": "Liaison and Diversion teams also work at courts. They can help you "
        "understand what is happening and get support.",
        "body": [
            _h2(
                "Before you go",
                "Check the date and time on your letter. Plan how you will get there. Ask "
                "someone you trust to come with you if you can.",
            ),
            _h2(
                "At the court",
                "Ask staff at the court desk for the Liaison and Diversion team. The team can "
                "talk with you about your health and any support you need.",
                "With your consent, they can tell the court about your needs. This helps the "
                "court make choices based on the right facts.",
            ),
            (
                "warning_callout",
                {
                    "title": "If you cannot get to court",
                    "heading_level": 3,
                    "body": "<p>Call your solicitor or the court straight away. Do not just "
                    "stay away.</p>",
                },
            ),
        ],
        "easy": [
            ("You may have to go to court.", "building"),
            ("Look at your letter. It tells you the day and the time.", "calendar"),
            ("Plan how you will get there.", "bus"),
            ("At court you can ask to see the Liaison and Diversion team.", "person"),
            ("If you cannot go, phone your solicitor or the court straight away.", "phone"),
        ],
    },
    {
        "slug": "your-rights",
        "title": "Your rights",
        "audience": Audience.YOUNG_PEOPLE,
        "stage": Stage.CUSTODY,
        "intro": "You have rights when you are at a police station. Knowing them can help you "
        "feel more in control.",
        "body": [
            _list(
                "At the police station you can",
                [
                    "get free legal advice from a solicitor",
                    "ask for someone to be told where you are",
                    "ask for help if you need someone to explain things to you",
                    "ask for an interpreter if you need one",
                ],
            ),
            _h2(
                "If you are under 18",
                "An adult must be with you when the police talk to you. This is called an "
                "appropriate adult. It can be a parent, a carer or a trained volunteer.",
                "Adults who have a learning disability or a mental health need should have an "
                "appropriate adult too.",
            ),
            _h2(
                "Talking to the Liaison and Diversion team",
                "It is your choice to talk with the team. They will explain what they do and "
                "who they may share things with.",
            ),
        ],
        "easy": [
            ("You have rights at the police station.", "paper"),
            ("You can talk to a solicitor for free.", "talk"),
            ("You can ask for someone to be told where you are.", "phone"),
            ("If you are under 18, an adult must be with you.", "two-people"),
            ("You can choose if you want to talk to the Liaison and Diversion team.", "person"),
        ],
    },
    {
        "slug": "what-is-peer-support",
        "title": "What is peer support?",
        "audience": Audience.ADULTS,
        "stage": Stage.AFTER,
        "intro": "A peer supporter is someone who has been through the justice system "
        "themselves. They can help you get to your appointments and keep going.",
        "body": [
            _h2(
                "Who peer supporters are",
                "Each team has a paid peer support worker and a group of volunteers. They have "
                "all been in trouble with the police or courts. Many have also had mental "
                "health needs, or problems with drugs or alcohol.",
                "People who have been through it helped the NHS plan this support.",
            ),
            _list(
                "What a peer supporter can do",
                [
                    "help you plan how to get to an appointment",
                    "remind you about appointments, if you want them to",
                    "go with you to your first appointment",
                    "listen, and help you keep going",
                ],
            ),
            _inset(
                "A peer supporter is not a police officer, a probation officer or a doctor. "
                "They are there for you."
            ),
        ],
        "easy": [
            ("A peer supporter has been through the police or courts too.", "person"),
            ("They know how hard it can feel.", "heart"),
            ("They can help you get to your appointments.", "calendar"),
            ("They can go with you the first time.", "two-people"),
            ("They are not the police. They are there for you.", "talk"),
        ],
    },
    {
        "slug": "getting-to-your-appointments",
        "title": "Getting to your appointments",
        "audience": Audience.ADULTS,
        "stage": Stage.AFTER,
        "intro": "After the team refers you, you will get an appointment with a service. "
        "Going to the first one is an important step.",
        "body": [
            _h2(
                "Why the first appointment matters",
                "A referral only helps if you get to the service. Liaison and Diversion teams "
                "should help people get to their first appointments, and keep going.",
            ),
            _list(
                "Things that can help",
                [
                    "write the day and time somewhere you will see it",
                    "get text message reminders from this website",
                    "plan your journey the day before",
                    "ask a peer supporter to come with you",
                ],
            ),
            _h2(
                "If you cannot go",
                "Tell the service as soon as you can. Ask for a new time. Missing one "
                "appointment does not mean you cannot get help.",
            ),
        ],
        "easy": [
            ("You will get a time to see a service that can help you.", "calendar"),
            ("We can send you a text to remind you.", "phone"),
            ("Plan how you will get there the day before.", "bus"),
            ("A peer supporter can come with you.", "two-people"),
            ("If you cannot go, tell them. Ask for a new time.", "talk"),
        ],
    },
    {
        "slug": "support-for-family-and-friends",
        "title": "Support for family and friends",
        "audience": Audience.FAMILY,
        "stage": Stage.AFTER,
        "intro": "When someone you care about is held by the police or goes to court, it can be "
        "hard for you too. This page is for you.",
        "body": [
            _h2(
                "How you can help",
                "You can help the person remember appointments and plan how to get there. You "
                "can also tell the Liaison and Diversion team if you are worried about them.",
            ),
            _h2(
                "What the team can tell you",
                "The team can listen to you. They may not be able to tell you everything about "
                "the person. They need the person's consent to share things about them.",
            ),
            _inset("Look after yourself too. Your GP can help if you feel low or stressed."),
        ],
        "easy": [
            ("This page is for family and friends.", "two-people"),
            ("You can help the person get to their appointments.", "calendar"),
            ("You can tell the team if you are worried.", "talk"),
            ("The team may not tell you everything. The person has to agree first.", "paper"),
            ("Look after yourself too.", "heart"),
        ],
    },
    {
        "slug": "help-in-a-crisis",
        "title": "Help in a crisis",
        "audience": Audience.ADULTS,
        "stage": Stage.AFTER,
        "intro": "If you feel you cannot cope, or you might hurt yourself, get help now. "
        "You do not have to wait.",
        "body": [
            (
                "care_card",
                {
                    "type": "immediate",
                    "heading_level": 2,
                    "title": "Call 999 if",
                    "body": [
                        (
                            "richtext",
                            "<ul><li>you have hurt yourself badly</li>"
                            "<li>you feel you cannot keep yourself safe</li></ul>",
                        )
                    ],
                },
            ),
            (
                "care_card",
                {
                    "type": "urgent",
                    "heading_level": 2,
                    "title": "Call 111 and choose the mental health option if",
                    "body": [
                        (
                            "richtext",
                            "<ul><li>you need help for your mental health now</li>"
                            "<li>you are worried about someone else</li></ul>",
                        )
                    ],
                },
            ),
            _h2(
                "Someone to talk to",
                "You can call Samaritans on 116 123 at any time, day or night. It is free.",
            ),
        ],
        "easy": [
            ("If you might hurt yourself, get help now.", "help"),
            ("Call 999 in an emergency.", "phone"),
            ("Call 111 for help with your mental health now.", "phone"),
            ("You can call Samaritans on 116 123. It is free, day or night.", "talk"),
        ],
    },
]


# --- Case studies ----------------------------------------------------------------------------

CASE_STUDIES = [
    {
        "slug": "sams-story",
        "title": "Sam's story: getting to the first appointment",
        "reference": "DEMO-CONSENT-001",
        "summary": "Sam met the Liaison and Diversion team at a police station. A peer "
        "supporter helped Sam get to a first appointment.",
        "body": [
            _p(
                "Sam had been struggling with low mood for a long time. Sam had not told anyone.",
                "At the police station, a nurse from the Liaison and Diversion team came to "
                "talk. “She asked how I was. Nobody had asked me that for ages,” Sam says.",
                "The team referred Sam to a mental health service. Sam was sent an "
                "appointment, but felt too anxious to go alone.",
                "A peer supporter called Sam the day before. They met at the bus stop and went "
                "together. “He had been through it too. That made it easier,” Sam says.",
            ),
        ],
    },
    {
        "slug": "jos-story",
        "title": "Jo's story: a court that understood",
        "reference": "DEMO-CONSENT-002",
        "summary": "Jo has a learning disability. The team at court made sure Jo understood "
        "what was happening.",
        "body": [
            _p(
                "Jo has a learning disability. Letters and forms are hard for Jo to read.",
                "At court, Jo met the Liaison and Diversion team. They found out what Jo "
                "needed. With Jo's consent, they told the court.",
                "The court explained things to Jo in plain words and took more time. “I knew "
                "what was going on for the first time,” Jo says.",
                "The team also helped Jo get support from a local learning disability service.",
            ),
        ],
    },
    {
        "slug": "alexs-story",
        "title": "Alex's story: help with alcohol",
        "reference": "DEMO-CONSENT-003",
        "summary": "Alex talked to the team about drinking. They helped Alex start with an "
        "alcohol service and keep going.",
        "body": [
            _p(
                "Alex had been drinking a lot. Alex knew it was a problem but did not know "
                "where to start.",
                "The Liaison and Diversion team talked with Alex at the police station. They "
                "referred Alex to an alcohol service.",
                "Text reminders helped Alex remember each appointment. When Alex missed one, "
                "the peer supporter got in touch and helped to book a new time.",
                "“I nearly gave up. Having someone check in kept me going,” Alex says.",
            ),
        ],
    },
]


# --- Building the tree -----------------------------------------------------------------------


def _child(parent: Page, model, slug: str, **fields):
    """The child of ``parent`` with this slug, created and published only when missing."""
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing is not None:
        return existing
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def _review_dates(today: datetime.date) -> dict:
    return {"last_reviewed": today, "next_review_due": today + datetime.timedelta(days=365)}


def _consent(reference: str, today: datetime.date) -> PublicationConsent:
    consent = PublicationConsent.objects.filter(reference=reference).first()
    if consent is None:
        consent = PublicationConsent(
            reference=reference,
            scope=PublicationConsent.Scope.WEBSITE,
            given_on=today - datetime.timedelta(days=30),
            expires_on=today + datetime.timedelta(days=2 * 365),
        )
        consent.full_clean()
        consent.save()
    return consent


def _home_links(home: HomePage, guidance: Page, stories: Page, directory: Page) -> None:
    """Add links to the three sections to the demo home page, once."""
    if any(block.block_type == "action_link" for block in home.body):
        return
    for target, text in (
        (guidance, "Read guidance about police stations, courts and afterwards"),
        (directory, "Find your local Liaison and Diversion service"),
        (stories, "Read stories from people who have been there"),
    ):
        home.body.append(("action_link", {"text": text, "internal_page": target}))
    home.save_revision().publish()


@transaction.atomic
def content_demo_seed(*, home: HomePage) -> None:
    today = timezone.localdate()
    pictures = _pictures()
    guidance_index = _child(
        home,
        GuidanceIndexPage,
        "guidance",
        title="Guidance",
        intro="Plain-English guidance about police stations, courts and what happens next. "
        "Most pages have an easy read version.",
    )
    for spec in GUIDANCE:
        page = _child(
            guidance_index,
            GuidancePage,
            spec["slug"],
            title=spec["title"],
            intro=spec["intro"],
            search_description=spec["intro"],
            audience=spec["audience"],
            stage=spec["stage"],
            body=spec["body"],
            **_review_dates(today),
        )
        _child(
            page,
            EasyReadPage,
            "easy-read",
            title=f"{spec['title']} (easy read)",
            search_description=spec["easy"][0][0],
            body=[
                ("point", {"text": text, "image": pictures[kind], "alt_text": PICTURES[kind]})
                for text, kind in spec["easy"]
            ],
            **_review_dates(today),
        )
    stories = _child(
        home,
        CaseStudyIndexPage,
        "stories",
        title="Stories from people who have been there",
        intro="Real experiences, shared with permission. Names are changed.",
    )
    for spec in CASE_STUDIES:
        _child(
            stories,
            CaseStudyPage,
            spec["slug"],
            title=spec["title"],
            summary=spec["summary"],
            search_description=spec["summary"],
            body=spec["body"],
            consent=_consent(spec["reference"], today),
            anonymised=True,
            no_real_names=True,
            no_real_places=True,
            no_offence_dates=True,
            **_review_dates(today),
        )
    directory = _child(
        home,
        ServiceDirectoryPage,
        "find-your-local-service",
        title="Find your local Liaison and Diversion service",
        intro="Search by town or postcode to find the team that covers the police station or "
        "court you went to.",
    )
    _home_links(home, guidance_index, stories, directory)
    editorial_groups_setup(home=home)
