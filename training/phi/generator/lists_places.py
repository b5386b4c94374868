"""Hand-written parts of fake place names: compounds, facility and employer patterns, street words, UK towns.

Facility names follow one convention, documented in :mod:`training.phi.generator`: the whole name, keywords such as
"Hospital" or "Rehab" included, is one LOCATION span; a leading "the" and the words around it are not.
"""

from __future__ import annotations

#: Halves of invented place names ("Seaview", "Westbrook", "Oakridge").
PLACE_HEADS = ("Sea", "West", "North", "South", "East", "Oak", "Elm", "Maple", "Cedar", "Pine", "River", "Lake",
               "Brook", "Fair", "Green", "Spring", "Stone", "High", "Bay", "Harbor", "Clear", "Silver", "Red", "Wood",
               "Glen", "Ash", "Willow", "Birch", "Hollis", "Mill", "Sand", "Fox", "Deer", "Eagle", "Summer", "Win",
               "Kings", "Bright", "Cold", "Mead", "Hart", "Thorn", "Crest", "Shady", "Laurel", "Haw", "Bell")
PLACE_TAILS = ("view", "brook", "field", "wood", "dale", "ton", "ford", "haven", "ridge", "crest", "side", "mont",
               "land", "bury", "gate", "point", "vale", "mead", "wick", "stead", "moor", "shire", "water", "croft",
               "hurst", "cliff", "port", "more", "well", "by")
#: Hospital name patterns; {P} a place or surname, {S} a saint's name, {T} a US state.
HOSPITAL_FORMS = ("{P} General Hospital", "{P} Memorial Hospital", "St. {S}'s Hospital", "{P} Medical Center",
                  "{P} Regional Medical Center", "{P} Community Hospital", "University of {T} Medical Center",
                  "{P} Children's Hospital", "{P} VA Medical Center", "Mercy {P}", "{P} Health", "{P} Hospital",
                  "{P} Memorial", "St {S}'s", "{P} General", "{P} Regional", "{P} Heart Institute",
                  "{P} Cancer Center", "{P} Family Health Center", "{P} Urgent Care", "{P} Women's Hospital")
REHAB_FORMS = ("{P} Rehab", "{P} Rehabilitation Hospital", "{P} Rehab Center", "{P} Acute Rehab",
               "{P} Sub-Acute", "{P} Transitional Care")
NURSING_HOME_FORMS = ("{P} Manor", "{P} Nursing and Rehab", "{P} Senior Living", "{P} House", "{P} Gardens",
                      "{P} Assisted Living", "{P} Care Center", "{P} Nursing Home", "{P} Commons", "{P} Terrace",
                      "{P} Place", "{P} Village")
PHARMACY_FORMS = ("{P} Pharmacy", "{P} Drug", "{P} Apothecary", "{P} Family Pharmacy", "{P} Discount Drugs",
                  "{P} Community Pharmacy")
EMPLOYER_FORMS = ("{P} Logistics", "{L} & Sons", "{P} Auto Body", "{P} Public Schools", "{P} Foods",
                  "{P} Manufacturing", "{P} Insurance", "{P} Diner", "{P} Construction", "{P} Police Department",
                  "{P} Fire Department", "{L} Plumbing", "{P} Hardware", "{P} Tool and Die", "{L} Landscaping",
                  "{P} Country Club", "{P} Distribution Center", "{P} Bank", "{L} Law Offices", "{P} Bakery",
                  "{P} Paper Mill", "{P} Transit Authority", "{P} Shipyard", "{L} Farms")
SCHOOL_FORMS = ("{P} Elementary", "{P} Middle School", "{P} High School", "{P} Community College",
                "University of {C}", "{P} Academy", "{P} Day Care", "{P} Montessori", "{P} Regional High",
                "{S} Catholic School", "{P} State University")
CHURCH_FORMS = ("St. {S} Church", "{P} Baptist Church", "First Presbyterian of {C}", "{P} Mosque",
                "{P} Congregational", "Temple {P}", "{P} Bible Church", "Our Lady of {P}", "{P} Methodist",
                "{P} Kingdom Hall", "{P} Gurdwara")
SHELTER_FORMS = ("{P} Shelter", "{P} House shelter", "{P} Recovery Home", "{P} Family Shelter", "{P} Halfway House")
CLINIC_FORMS = ("{P} Family Practice", "{P} Internal Medicine", "{P} Medical Associates", "{P} Primary Care",
                "{P} Health Partners", "{P} Community Health Center", "{P} Family Medicine", "{L} & {L2} Medical Group",
                "{P} Cardiology", "{P} Orthopedics", "{P} OB/GYN", "{P} Behavioral Health", "{P} Pediatrics")
AGENCY_FORMS = ("{P} Home Care", "{P} VNA", "{P} Home Health", "{P} Ambulance", "{P} Hospice", "{P} Medical Supply",
                "{P} Dialysis Unit")
#: Saints' names for church and hospital names.
SAINTS = ("Mary", "Joseph", "Luke", "Jude", "Anne", "Vincent", "Francis", "Elizabeth", "Agnes", "Catherine",
          "Anthony", "Patrick", "Clare", "Raphael", "Michael", "Teresa", "Margaret", "Brendan", "Cecilia")
#: Street words.
STREET_NAMES_EXTRA = ("Main", "Elm", "Oak", "Maple", "Washington", "Park", "Church", "High", "School", "Mill",
                      "Water", "Union", "Pleasant", "Chestnut", "Cedar", "Prospect", "Bridge", "Spring", "Center")
STREET_SUFFIXES = ("St", "St.", "Street", "Ave", "Ave.", "Avenue", "Rd", "Road", "Blvd", "Lane", "Ln", "Dr", "Drive",
                   "Ct", "Court", "Way", "Pl", "Terrace", "Circle", "Pkwy", "Hwy", "Pike", "Row", "Close", "Crescent")
UNIT_WORDS = ("Apt", "Apt.", "Apartment", "Unit", "#", "Suite", "Flat", "apt")
#: UK towns (public facts) for UK letters, and the shape of postcodes.
UK_TOWNS = ("Leeds", "Bradford", "Harrogate", "Halifax", "Wakefield", "Doncaster", "Chester", "Exeter", "Taunton",
            "Norwich", "Ipswich", "Swindon", "Reading", "Stockport", "Bolton", "Wigan", "Carlisle", "Lancaster",
            "Durham", "Gateshead", "Truro", "Bath", "Salisbury", "Kendal", "Ely", "Hexham", "Whitby", "Ludlow")
UK_STREET_SUFFIXES = ("Road", "Lane", "Close", "Crescent", "Street", "Gardens", "Grove", "Mews", "Terrace", "Drive")
#: Hospital wards and units named after places or people, written without any cue word.
WARD_SUFFIXES = (" 2", " 3", " 4", " 5", " 2/3", " 6 North", " 7", " 9 South", " 11", " 4B", "", "", "")
