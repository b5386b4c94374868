"""Hand-written word lists about people: nicknames, role words, credentials and name parts of many origins.

Written for MedPriv from general knowledge (no annotated corpus). The syllable tables build surnames that are in no
list, so the tagger learns the shape of a name in context rather than a dictionary.
"""

from __future__ import annotations

#: Formal first name -> common nicknames.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Bobby", "Rob", "Robbie"), "William": ("Bill", "Billy", "Will", "Willie"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie"), "Katherine": ("Kate", "Kathy", "Katie"),
    "James": ("Jim", "Jimmy", "Jamie"), "Thomas": ("Tom", "Tommy"), "Charles": ("Chuck", "Charlie"),
    "Margaret": ("Peggy", "Maggie", "Meg"), "Susan": ("Sue", "Suzy"), "Edward": ("Ted", "Eddie", "Ned"),
    "Richard": ("Rick", "Dick", "Richie"), "Nicholas": ("Nick", "Nicky"), "Anthony": ("Tony",),
    "Samuel": ("Sam", "Sammy"), "Daniel": ("Dan", "Danny"), "Joseph": ("Joe", "Joey"), "Patricia": ("Pat", "Patty"),
    "Deborah": ("Deb", "Debbie"), "Jennifer": ("Jen", "Jenny"), "Christopher": ("Chris",), "Michael": ("Mike", "Mikey"),
    "David": ("Dave", "Davey"), "Steven": ("Steve",), "Andrew": ("Andy", "Drew"), "Nathaniel": ("Nate",),
    "Abigail": ("Abby",), "Virginia": ("Ginny",), "Dorothy": ("Dot", "Dottie"), "Francis": ("Frank", "Frankie"),
    "Theodore": ("Teddy", "Theo"), "Alexander": ("Alex", "Sasha"), "Gregory": ("Greg",), "Lawrence": ("Larry",),
    "Barbara": ("Barb", "Babs"), "Rebecca": ("Becky",), "Jacqueline": ("Jackie",), "Catalina": ("Cata", "Lina"),
    "Guadalupe": ("Lupe",), "Francisco": ("Paco", "Pancho"), "Jose": ("Pepe",), "Dolores": ("Lola",),
    "Ignacio": ("Nacho",), "Oluwaseun": ("Seun",), "Olusegun": ("Segun",), "Chukwuemeka": ("Emeka",),
    "Aleksandra": ("Ola",), "Vladimir": ("Vova", "Vlad"), "Yekaterina": ("Katya",), "Mohammed": ("Mo",),
}
#: A nickname used alone, as the chart quotes it ("goes by Sonny").
STANDALONE_NICKNAMES = {"m": ("Sonny", "Junior", "Bubba", "Red", "Skip", "Buddy", "Butch", "Chip", "Duke"),
                        "f": ("Cookie", "Gigi", "Tink", "Red", "Boo", "Dottie", "Sissy", "Birdie", "Lulu")}
#: Words that are ordinary English and also first names (used both ways, on purpose).
WORD_NAMES = ("May", "Bill", "Will", "Mark", "Rose", "Hope", "Grace", "Faith", "Art", "Sunny", "Joy", "Dawn", "Bob")
#: Relations, as nurses write them.
RELATIONS_BY_SEX = {
    "spouse_of_m": ("wife", "spouse", "partner"), "spouse_of_f": ("husband", "spouse", "partner"),
}
RELATIVES = ("son", "daughter", "dtr", "sister", "brother", "niece", "nephew", "grandson", "granddaughter",
             "friend", "neighbor", "mother", "father", "mom", "dad", "cousin", "aunt", "uncle")
#: Staff roles written before a first name ("SW Mike", "charge RN lena").
STAFF_ROLES = ("SW", "CM", "RN", "charge RN", "charge nurse", "RT", "PT", "OT", "chaplain", "interpreter", "pharmacist",
               "resident", "intern", "NP", "PA", "house officer", "float RN", "tech", "PCA", "unit secretary", "RD",
               "case mgr", "nurse", "night RN", "day RN", "covering RN", "CNA", "EMT", "medic", "dietitian", "SLP",
               "rehab aide", "patient navigator", "clinic RN", "triage RN", "transport", "sitter", "doula", "midwife")
#: Credentials written after a name.
CREDENTIALS = {
    "rn": ("RN", "BSN, RN", "RN, BSN", "RN-BC", "RN CCRN", "LPN"), "rt": ("RRT", "CRT", "RRT-NPS", "RCP"),
    "sw": ("LICSW", "MSW", "LCSW", "MSW, LCSW"), "cm": ("RN, CM", "RN CCM", "ACM", "LSW"),
    "pharm": ("PharmD", "RPh", "PharmD, BCPS"), "pt": ("PT", "DPT", "PT, DPT", "PTA"), "ot": ("OTR/L", "OT", "COTA"),
    "rd": ("RD", "RD, LDN", "MS, RD", "RDN, CDE"), "md": ("MD", "DO", "MD, PhD", "MBBS"), "np": ("NP", "ANP-BC", "FNP"),
    "pa": ("PA-C",), "psych": ("MD", "PMHNP", "PhD", "PsyD", "LMHC"), "cnm": ("CNM", "RN, CNM"),
    "slp": ("CCC-SLP", "SLP"), "nnp": ("NNP", "NNP-BC"),
}
#: Title words before a clinician's surname, in the shapes seen in notes.
DOCTOR_TITLES = ("Dr. ", "Dr ", "dr ", "dr. ", "DR ", "Doctor ")

#: First names by origin, beyond the census lists: (male, female).
ORIGIN_FIRSTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "hispanic": (("Tomas", "Alejandro", "Joaquin", "Rigoberto", "Ignacio", "Mateo", "Efrain", "Francisco", "Jose"),
                 ("Guadalupe", "Ximena", "Marisol", "Yesenia", "Catalina", "Esperanza", "Itzel", "Dolores", "Xochitl",
                  "Nayeli", "Rosalba")),
    "east_asian": (("Wei", "Xiaoming", "Haruto", "Minjun", "Ji-hoon", "Thanh", "Hiroshi", "Zhiwei", "Daisuke", "Bao"),
                   ("Jia", "Yuki", "Seo-yeon", "Linh", "Quynh", "Mei", "Huong", "Sakura", "Eun-ji", "Ngoc")),
    "south_asian": (("Rohit", "Venkat", "Sanjay", "Arjun", "Imran", "Sudhir", "Rajesh", "Gurpreet", "Aarav"),
                    ("Ananya", "Priyanka", "Lakshmi", "Deepika", "Harpreet", "Farhana", "Kavita", "Nandini",
                     "Meenakshi")),
    "african": (("Adebayo", "Kwame", "Oluwaseun", "Kofi", "Chukwuemeka", "Tendai", "Kwabena", "Yaw", "Obinna", "Themba",
                 "Olusegun"),
                ("Chinwe", "Abena", "Ngozi", "Amara", "Folake", "Wanjiru", "Efua", "Zanele", "Nia")),
    "slavic": (("Dmitri", "Vladimir", "Bogdan", "Jaroslav", "Tadeusz", "Miroslav", "Pavel", "Radek"),
               ("Aleksandra", "Katarzyna", "Yekaterina", "Milena", "Oksana", "Zofia", "Svetlana", "Agnieszka",
                "Ludmila",
                "Natasha")),
    "arabic": (("Mohammed", "Youssef", "Omar", "Khalid", "Tariq", "Hamza", "Bilal", "Karim", "Ibrahim", "Mustafa"),
               ("Fatima", "Layla", "Noor", "Amira", "Samira", "Rania", "Yasmin", "Huda", "Zainab", "Nadia")),
    "irish": (("Padraig", "Declan", "Ciaran", "Eamon", "Cormac", "Fergus", "Liam", "Tadhg"),
              ("Siobhan", "Niamh", "Aoife", "Roisin", "Saoirse", "Brigid", "Orla", "Maeve")),
    "european": (("Joost", "Luuk", "Sven", "Matthias", "Bastien", "Lorenzo", "Pieter", "Sander", "Benedikt"),
                 ("Odile", "Henrike", "Margriet", "Anneliese", "Ingrid", "Elodie", "Giulia", "Chiara", "Annika",
                  "Marthe")),
}
#: Surname syllables by origin: (starts, middles, endings); a surname is start + optional middle + ending.
SURNAME_PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "hispanic": (("Al", "Bel", "Car", "Cas", "Del", "Es", "Fer", "Gal", "Ibar", "Lo", "Mar", "Mon", "Ol", "Pa", "Qui",
                  "Ro", "San", "Sol", "Tor", "Val", "Ver", "Zu", "Arre", "Baez", "Cor"),
                 ("", "", "ba", "da", "la", "ra", "ri", "ve", "te", "go", "ne", "ci"),
                 ("ez", "es", "ero", "illo", "ano", "ada", "edo", "eda", "ona", "uela", "oza", "ente", "aga", "arro")),
    "east_asian": (("Ta", "Ka", "Ha", "Ya", "Mo", "Su", "Ni", "Ishi", "Nishi", "Fuji", "Ma", "Hoshi", "Oka", "Kura"),
                   ("", "", "ka", "ma", "mo", "na"),
                   ("moto", "mura", "yama", "da", "ta", "shima", "kawa", "zaki", "no", "hara", "gawa", "uchi")),
    "south_asian": (("Bhat", "Chatur", "Desh", "Kul", "Moh", "Raj", "Ram", "Shri", "Sub", "Venk", "Nara", "Sri",
                     "Gan", "Pad", "Ana", "Kris"),
                    ("", "", "a", "i", "ya", "ma", "na"),
                    ("kar", "pande", "wal", "ani", "esan", "athan", "andran", "ia", "amurthy", "swamy", "reddy",
                     "nathan")),
    "african": (("Ade", "Ola", "Oke", "Obi", "Nwa", "Chi", "Ogu", "Ako", "Kwa", "Ama", "Eze", "Olu", "Ayo", "Ife",
                 "Mba", "Oyel", "Ban", "Mwa"),
                ("", "", "ni", "ba", "ru", "ke"),
                ("yemi", "bayo", "kunle", "nna", "chukwu", "eze", "dele", "wale", "sola", "mide", "tunde", "nye", "ku",
                 "ngi", "nso", "teng")),
    "slavic": (("Kowal", "Nowa", "Wisz", "Lewan", "Zielin", "Petro", "Ivan", "Kuz", "Sokol", "Vol", "Dvor", "Novot",
                "Horv", "Mar", "Bog", "Kras", "Luk", "Grab"),
               ("", "", "ov", "ch", "en"),
               ("ski", "ska", "czyk", "enko", "ov", "ova", "ovich", "evic", "ak", "ek", "cki", "nik", "chuk", "yk")),
    "arabic": (("Hass", "Mas", "Am", "Khat", "Hadd", "Najj", "Sal", "Far", "Rash", "Zah", "Qur", "Mans", "Nass", "Hak",
                "Ab", "Jab", "Sab"),
               ("", "", "ou", "a", "i"),
               ("an", "ri", "in", "ib", "ad", "ar", "eh", "ouk", "id", "ra", "eshi", "our", "er", "im", "bour")),
    "irish": (("Kee", "Dohe", "Sulli", "Conn", "Gar", "Dono", "Mal", "Ria", "Bre", "Flah", "Kin", "Loug", "Hal"),
              ("", "", "r", "va"),
              ("fe", "rty", "van", "ell", "ity", "ghue", "ley", "rdan", "nnan", "erty", "sella", "hlin", "loran")),
    "neutral": (("Tar", "Os", "Bel", "Lin", "Mor", "Fen", "Cal", "Dra", "Hel", "Kes", "Vor", "Bran", "Wex", "Quil"),
                ("", "a", "e", "i", "o", "ven", "lan"),
                ("in", "ka", "ford", "wick", "ley", "ton", "mar", "ick", "sby", "ridge", "ow", "ell")),
}
#: Multi-part surnames with particles; the whole name, particles included, is one NAME span.
PARTICLE_SURNAMES = (
    "de la Cruz", "de la Rosa", "de la Fuente", "de la Torre", "del Rio", "de los Santos", "de la Vega", "de la Paz",
    "de Luna", "de la Garza", "del Valle", "de Leon", "Van der Berg", "van der Meer", "van den Broek", "de Vries",
    "von Stein", "van den Heuvel", "van der Wal", "du Pont", "Le Blanc", "van den Bosch", "von Linden", "Van Dyke",
    "de Jong", "ter Haar", "Al-Masri", "El-Amin", "al-Khatib", "bin Saleh", "Abdel-Rahman", "Al-Haddad", "El-Sayed",
    "Al-Hashemi", "Abu Bakr", "bin Nasser", "da Silva", "dos Santos", "di Stefano", "Della Porta", "St. Clair",
)
#: Particles put before an invented surname of the same origin ("Al-Khatouri", "van Tarwick").
INVENTED_PARTICLES = {"arabic": ("Al-", "El-", "bin "), "neutral": ("van ", "de ", "von "), "hispanic": ("de ", "del ")}
#: Chinese, Korean and Vietnamese one-syllable surnames (public facts), used whole.
SHORT_SURNAMES = ("Zhang", "Liu", "Xu", "Chen", "Huang", "Zhao", "Park", "Kim", "Choi", "Jeong", "Nguyen", "Tran",
                  "Pham", "Vu", "Le", "Dang", "Wong", "Ng", "Lam", "Yip", "Osei", "Mensah", "Boateng", "Diallo", "Ba")
#: Names spelled with their diacritics, as registration systems increasingly keep them ("Phúc", "Inés", "Núñez").
#: The tagger's tokenizer folds the marks, so these add names of more origins rather than teach the marks.
ACCENTED_FIRSTS = {"m": ("José", "Raúl", "Héctor", "Joaquín", "Iñaki", "João", "André", "Jürgen", "Björn", "Søren",
                         "Łukasz", "Jiří", "Tomáš", "Zoltán", "Şükrü", "Phúc", "Đức", "Dũng", "Quý", "Thắng", "Gaël",
                         "Ángel", "Efraín", "Rubén"),
                   "f": ("Inés", "Mónica", "Begoña", "Conceição", "Zoë", "Renée", "Hélène", "Chloé", "Léa", "Noémie",
                         "Anaïs", "Małgorzata", "Çağla", "Gülşen", "Özge", "Thảo", "Ngọc", "Hằng", "Tú", "Siân",
                         "Dörte", "Jördis", "Maité", "Belén")}
ACCENTED_SURNAMES = ("Núñez", "Muñoz", "Peña", "Ibáñez", "Sánchez", "Hernández", "Pérez", "Gonçalves", "Araújo",
                     "da Conceição", "Nguyễn", "Trần", "Phạm", "Lê", "Đặng", "Müller", "Schäfer", "Jäger",
                     "Søndergaard", "Öztürk", "Çelik", "Yılmaz", "Dvořák", "Wójcik", "Lefèvre", "Bérubé",
                     "Thériault", "Côté", "Ó Briain", "Ødegård")
#: Short first names (two to four letters), easily read as words or abbreviations ("wife Mae", "son Tou").
SHORT_FIRSTS = {"m": ("Tou", "Vu", "Bo", "Al", "Ed", "Ty", "Kai", "Yu", "Eli", "Ian", "Ari", "Cy", "Nhia"),
                "f": ("Mae", "Pa", "Ly", "Jo", "Ai", "Su", "Ida", "Eve", "Ava", "Mia", "Zoe", "Bea", "Mai")}
#: Hmong clan surnames (public facts), often short and written alone.
CLAN_SURNAMES = ("Xiong", "Vang", "Moua", "Lor", "Thao", "Yang", "Lee", "Vue", "Chang", "Khang")
