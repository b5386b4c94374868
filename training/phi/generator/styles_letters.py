"""Letters, messages and structured text: referral letters (US and UK conventions), patient portal messages, and
tables and bullet lists (patient summaries, problem lists, medication tables).

UK letters are chosen by the assembler (``ctx.uk``): day-first dates, UK phone numbers and addresses, NHS numbers.
"""

from __future__ import annotations

from training.phi.generator.context import NoteContext

LETTER_INTROS = (
    "Thank you for seeing {pt_formal}, a {pt_age} {man} whom I am referring for evaluation of exertional chest pain.",
    "I saw this {pt_age} {man} in clinic on {date} with {his} {rel2word}.",
    "I would be grateful if you could see {pt_formal}, {pt_aged}, who has had worsening joint pain since {month}.",
    "Many thanks for referring {pt_formal}, whom I reviewed in the clinic on {date}.",
)
LETTER_BODY = (
    "{He} has a history of MI in {year} and CABG {yy}, and was last seen at {hosp} in {month}.",
    "{His} symptoms began around {holiday} and have progressed despite [[Norco]] and [[Tylenol]].",
    "Examination showed BP {bp}, [[Tinel's sign]] positive at the R wrist and [[Phalen's test]] positive.",
    "Recent bloods: {lab}, {lab}. ECG sinus rhythm.", "{He} lives with {his} {relword} {rel_name} in {city}.",
    "{He} works as a driver for {employer} and is keen to return to work.",
    "I have started [[Eliquis]] 5 mg twice daily.",
    "I would be grateful for your opinion regarding further management.", "{He} is happy to be contacted on {phone}.",
    "{His} {rel2word}, {rel2_name}, is {his} main carer and can be reached on {phone}.",
    "Previous notes from {bare} are enclosed.", "Patient information is available at {url}.",
    "{His} symptoms are worse around the {ordinal} of each month, when {he} works night shifts.",
    "{He} [[may]] need a [[Holter]] monitor.",
)
PORTAL_LINES = (
    "I had my blood drawn at {pharmacy} on {day}.",
    "my {relword} {rel_name} says my ankles look more swollen.",
    "Can you call me at {phone}? I'm home after {5|6|7} pm.",
    "I ran out of my [[Lasix]] and {pharmacy} says they need a new script.", "My new address is {address1}.",
    "I'm staying with my {rel2word} in {city_state} until {date_md}.",
    "Is it ok to take [[Motrin]] with my [[Eliquis]]?",
    "The pain is about {score} today, worse at night.", "Also my insurance changed, new member id {member}.",
    "the form asks for my SS# - it's {ssn}.",
    "I have an appt with {dr} on {date_mon_d}, should I still go?", "You can also email me at {email}.",
    "I tried the link {url} but it won't load.", "my username is {username} if that helps.", "thanks so much!!",
    "I [[will]] bring my {rel2word} {rel2_name} to the next visit.", "I logged in from {ip}, is that ok?",
    "I [[may]] be late, I work until the {ordinal}.",
    "My {mother|father|grandmother} is {age_words} and I look after her.", "My BP this morning was {bp}.",
)
REPLY_LINES = (
    "Hi {pt_first}, Dr. {dr_last} reviewed your message.", "Please hold [[Motrin]]; [[Tylenol]] is ok.",
    "Your refill was sent to {pharmacy}.", "Please call the clinic at {phone_ext} to reschedule.",
    "If your swelling worsens or you are short of breath, go to the ED.",
    "Lab orders placed; results will post to the portal.",
)
SUMMARY_FIELDS = (
    "Name: {pt}", "DOB: {dob}", "MRN: {mrn}", "Address: {address1}", "Phone: {phone}", "Email: {email}",
    "Emergency contact: {rel_full} ({relword}) {phone}", "PCP: {dr} ({clinic})", "Insurance member ID: {member}",
    "SSN: {ssn}", "Preferred pharmacy: {pharmacy}", "Employer: {employer}", "Account #: {acct}", "Age: {pt_age_num}",
    "Admit date: {date}", "Unit: {ward}",
    "Driver's license: {licence}", "ZIP: {zip}", "Name: {formal_nick}", "Initials: {pt_ini}", "Last visit: {date_m_y}",
    "Workstation: {ip}", "Language: {English|Spanish|Haitian Creole|Vietnamese|Portuguese}",
)
PROBLEMS = (
    "CAD s/p CABG {yy}", "DM2 dx {year}", "HTN", "CKD stage 3", "Afib on [[Eliquis]]", "COPD, home O2 2L",
    "Hx CVA {month} {year}", "[[Parkinson's disease]], [[Hoehn and Yahr]] stage 2", "OSA on CPAP", "R TKA {year}",
    "Breast ca s/p lumpectomy {year}", "Depression", "[[Bell's palsy]] {yy}", "Fall {date}", "Gout",
)
MED_ROWS = ("{med_row}",) * 4 + ("[[Eliquis]] | 5 mg | BID", "[[Keppra]] | 500 mg | BID", "[[Lasix]] | 20 mg | daily")
VITAL_ROWS = tuple(f"{{date_md}} {t} | {{bp}} | {{{hr}}} | {{score}}" for t, hr in (
    ("0400", "62|74|88"), ("0800", "88|96|104"), ("1200", "72|80"), ("1600", "96|112"), ("2000", "70|84"),
    ("2359", "66|90")))
CARE_TEAM = ("Attending: {dr}", "Resident: {dr_full}", "RN: {staff_first}", "SW: {staff_full} {ext}", "CM: {sign_cm}",
             "PT: {sign_pt}", "Pharmacist: {sign_pharm}", "Pager: {pager}", "Consult: {dr2}")


def referral_letter(c: NoteContext) -> None:
    """A referral or clinic letter: letterhead, date, addressee, RE line, body, closing; US or UK conventions."""
    c.line("{hosp}" if c.chance(0.5) else "{clinic}")
    c.line("{address}")
    c.line("Tel {phone}   Fax {fax}" if c.chance(0.6) else "Tel: {phone}")
    c.blank()
    c.line(c.pick(("{date_letter}", "Date: {date_letter}", "Clinic date: {date}   Typed: {date}")))
    if c.uk:
        c.line("NHS number: {nhs}   Hospital no: {mrn}")
    c.blank()
    c.line("Dr{.|} {doc1_full}" if c.uk else "{doc1_full}, MD")
    c.line("{clinic}")
    c.line("{address}")
    c.blank()
    c.line(c.pick(("RE: {pt}   DOB: {dob}   MRN: {mrn}", "Re: {pt}, DOB {dob}", "Re: {pt_lastfirst} ({dob})")))
    c.blank()
    c.line("Dear Dr{.|} {doc1_last},")
    c.blank()
    c.add(c.pick(LETTER_INTROS) + " ")
    c.lines(LETTER_BODY, 3, 7, sep=" ")
    c.blank()
    c.mark_closing()
    c.line(c.pick(("Yours sincerely,", "Sincerely,", "Kind regards,", "With best wishes,")))
    c.blank()
    c.line(c.pick(("{doc0_full}, MD", "{doc0_full}\nConsultant {Cardiologist|Rheumatologist|Physician}",
                   "Dr {doc0_full}\ncc: {dr_full}, {clinic}", "{doc0_full} MBBS MRCP")))


def letter_extra(c: NoteContext) -> None:
    """One more letter sentence."""
    c.one(LETTER_BODY)


def portal_message(c: NoteContext) -> None:
    """A patient portal message and, often, the clinic's reply."""
    c.line(c.pick(("From: {pt} <{email}>", "Message from patient portal", "MyChart message - {pt_lastfirst}",
                   "Patient Message ({username})")))
    c.line(c.pick(("Sent: {date_mdy4} {time}", "Received {date_md} {time}", "Date: {date}")))
    c.line(c.pick(("To: {dr} / care team", "To: {clinic}", "To: Dr. {dr_last}")))
    c.line("Subject: {Refill request|Question about meds|Test results|Swelling|Appointment}")
    c.blank()
    c.line(c.pick(("Hi Dr. {doc0_last}, this is {pt_first}.", "hi, its {pt_nick} again.", "Hello,",
                   "Dr {doc0_last} -", "Good morning, this is {pt_first} {pt_last} (DOB {dob}).")))
    c.lines(PORTAL_LINES, 3, 7, sep=c.pick((" ", "\n", " ")))
    c.mark_closing()
    c.line(c.pick(("Thanks, {pt_first}", "- {pt_nick}", "{pt}", "thank you")))
    if c.chance(0.6):
        c.line("---")
        c.lines(REPLY_LINES, 2, 4, sep="\n")
        c.line(c.pick(("Thanks, {staff_first}, RN", "- {sign_rn}, {clinic}", "{sign_rn}")))


def portal_extra(c: NoteContext) -> None:
    """One more message line."""
    c.one(PORTAL_LINES)


def table_list(c: NoteContext) -> None:
    """Structured text: a summary block of fields, bullet lists and a pipe table."""
    c.line(c.pick(("PATIENT SUMMARY", "Face Sheet", "Handoff - {ward}", "SIGNOUT LIST {date_md}", "Problem List")))
    fields = c.some(SUMMARY_FIELDS, 5, 10)
    width = c.pick((0, 20))
    for f in fields:
        label, _, rest = f.partition(": ")
        c.line(f"{label}:".ljust(width) + (" " if not width else "") + rest)
    c.blank()
    c.line(c.pick(("Problems:", "PMH:", "Active problems")))
    bullet = c.pick(("- ", "* ", "o ", "1. "))
    for i, p in enumerate(c.some(PROBLEMS, 3, 6), 1):
        c.line((f"{i}. " if bullet == "1. " else bullet) + p)
    if c.chance(0.6):
        c.blank()
        c.line("Medication | Dose | Freq")
        for row in c.some(MED_ROWS, 2, 4):
            c.line(row)
    if c.chance(0.6):
        c.blank()
        c.line("Care team:")
        for row in c.some(CARE_TEAM, 2, 4):
            c.line(bullet.replace("1. ", "- ") + row)
    c.blank()
    c.line(c.pick(("Date/time | BP | HR | Pain", "VITALS", "Date | BP | HR | pain score")))
    table_extra(c)


def table_extra(c: NoteContext) -> None:
    """One more row of the vital-signs table that ends the note (six at most)."""
    c.one(VITAL_ROWS)
