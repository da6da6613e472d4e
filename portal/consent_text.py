"""What people are told when they agree: version 1 of each purpose's wording.

Used by the data migration that first stores it and by `seed_demo` after a flush.
New wording is a new ConsentWording version, never an edit of this text.
"""

WORDING_V1 = {
    "peer_support": (
        "A peer supporter is someone who has been through the justice system too. If you say "
        "yes, we will tell a peer supporter your first name, what you would like help with and "
        "the area you live in, so they can help you get to your appointments."
    ),
    "sms_reminders": (
        "If you say yes, we will send you text messages to remind you about your appointments. "
        "The texts only say the day, the time and the place. They never say what the "
        "appointment is for."
    ),
    "information_sharing": (
        "If you say yes, we will tell the police or the court about your health and what "
        "support you need, so they can think about it when they make decisions."
    ),
    "case_study": (
        "If you say yes, we may tell your story on this website. We will not use your name or "
        "anything that could show who you are. You can change your mind at any time and we "
        "will take it down."
    ),
}
