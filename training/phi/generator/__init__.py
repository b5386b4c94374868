"""A many-style generator of clinical notes with fake PHI, for training the PHI token tagger.

``generate(n, seed, styles)`` returns :class:`SynthNote` objects (text, spans ``(start, end, label)``, style, keeps);
``iter_notes(seed, styles)`` streams them. Twenty-one styles (:data:`STYLES`) from ICU nursing in capitals to portal
messages and UK referral letters; every note is cast with fake people, places, numbers and dates from public lists
(US Census names, GeoNames) and invented ones, then cased and roughened per style.

Span conventions (the tagger's labels follow these):

- NAME: the name only. A title ("Dr.", "Mr."), a role word ("husband", "SW") and a credential ("RRT", "PharmD") are
  outside the span; first name and surname written together are one span, particles and hyphens included
  ("Maria de la Cruz", "Adebayo-Reid"); "Lang, Peter" is two spans; initials of 2-3 letters are a span.
- LOCATION: a facility is one span with its keywords ("Westbrook General Hospital", "Seaview Rehab"); a ward named
  without a cue word is the name only ("Westbrook" in "Westbrook 2/3"). An address is one span per part: street with
  house number, apartment, city, state, ZIP/postcode. Hospital room and bed numbers are never PHI.
- DATE: the date expression only ("January 5th, 2019", "'92", "13th" in "the 13th", "Christmas").
- AGE: ages over 89 only, the number or number words ("91" in "91-year-old", "ninety-two").
- CONTACT: the number or address; an extension written with a phone number is in the same span ("617-555-0123 x23").
- ID: the identifier only, letter prefixes and inner spaces included ("MP-00412233", "987 65 4321").

Hard negatives (drugs, eponyms, scores, vitals, times, gestational ages, rooms, day names, young ages, "may",
"Dr. notified") are recorded as ``keeps`` and never overlap a span.
"""

from training.phi.generator.assembler import LABELS, STYLES, SynthNote, generate, iter_notes, make_note

__all__ = ["LABELS", "STYLES", "SynthNote", "generate", "iter_notes", "make_note"]
