"""The fixed raw material of the demo company: names, the extra nominals and the stock catalogue.

Fictitious UK businesses (no real trading names), so the demo can be shown anywhere. The catalogue is
fixed; the seed only jitters prices and picks who buys what, so two seeds differ in their documents.
"""

from __future__ import annotations

from ..models import NominalKind

# Beyond the standard chart: what a small UK wholesaler also posts to.
EXTRA_NOMINALS = [
    ("3000", "Capital Introduced", NominalKind.OTHER),      # where the opening stock came from
    ("4040", "Sales - Spares and Repairs", NominalKind.SALES),
    ("4900", "Miscellaneous Income", NominalKind.OTHER),
    ("5020", "Carriage Inwards", NominalKind.PURCHASE),
    ("5030", "Purchases - Subcontractors", NominalKind.PURCHASE),
    ("7100", "Rent", NominalKind.OTHER),
    ("7200", "Electricity", NominalKind.OTHER),
    ("7502", "Telephone and Internet", NominalKind.OTHER),
    ("7600", "Accountancy Fees", NominalKind.OTHER),
]

PLACES = [
    "Thames", "Pennine", "Cotswold", "Mersey", "Solent", "Chiltern", "Severn", "Tyneside", "Mendip",
    "Wessex", "Humber", "Fenland", "Malvern", "Peakland", "Cheviot", "Exmoor", "Wensleydale", "Kennet",
    "Avonside", "Medway", "Calder", "Wealden", "Quantock", "Lakeland", "Trent", "Ribble", "Holderness",
    "Purbeck", "Cairngorm", "Brecon", "Galloway", "Sherwood", "Lune", "Tamar", "Dee Valley", "Broadland",
]

TRADES = [
    "Interiors", "Office Solutions", "Catering Supplies", "Builders Merchants", "Garden Centre",
    "Joinery", "Electrical Contractors", "Print & Design", "Hospitality Group", "Facilities Management",
    "Engineering", "Dental Practice", "Coffee House", "Hotel", "Leisure Centre", "Veterinary Surgery",
    "Community Trust", "Academy Trust", "Property Services", "Fitness Studios",
]

COMPANY_SUFFIXES = ["Ltd", "Ltd", "Ltd", "Limited", ""]
UNINCORPORATED = ("Trust", "Practice", "Surgery")  # these trades take no company suffix

# Non-account customers pay up front: sole traders, clubs and the public.
NON_ACCOUNT_NAMES = [
    "Amelia Whitfield Crafts", "J. Patel Newsagents", "The Old Forge Tearoom", "Okafor Family Dentistry",
    "St Aidan's Parish Hall", "Harrow Road Allotment Society", "D. & M. Kowalski", "Little Acorns Nursery",
    "Riverside Rowing Club", "Mr T. Hughes", "Bramble Cottage B&B", "The Corner Bakehouse",
    "Fernhill Scout Group", "Mrs R. Chaudhry", "Greenway Cycle Repairs", "Lark Lane Florist",
    "Kirkby Bowls Club", "Hollis Mobile Valeting", "The Pottery Shed", "A. Nakamura Photography",
]

# Two EU customers in euros, so MultiCurrency has something to decide about.
EUR_CUSTOMERS = [
    ("Brasserie Lumière SARL", "commandes@brasserie-lumiere.example.fr"),
    ("Hofmann Handelsgesellschaft GmbH", "einkauf@hofmann-handel.example.de"),
]

GOODS_SUPPLIERS = [
    "Midland Wholesale Stationers Ltd", "Northern Paper Mills Ltd", "Castlegate Janitorial Supplies Ltd",
    "Brightwater Catering Wholesale Ltd", "Anchor Fixings & Fasteners Ltd", "Oakridge Furniture Ltd",
    "Lumen Electrical Distribution Ltd", "Greenfield Packaging Ltd", "Harbourside Beverage Co Ltd",
    "Premier Safety Wear Ltd", "Westbrook Tools Ltd", "Clearview Cleaning Chemicals Ltd",
    "Summit IT Accessories Ltd", "Kingfisher Print Consumables Ltd", "Redbrick Building Products Ltd",
    "Meadow Fresh Foods Ltd",
]

# Overhead suppliers: one line a month on an expense nominal (rent is exempt: T2).
OVERHEAD_SUPPLIERS = [
    ("Harbour Property Management Ltd", "Warehouse rent", "7100", "T2", "2750.00"),
    ("Brightline Energy Ltd", "Electricity", "7200", "T1", "612.40"),
    ("Kestrel Telecom Ltd", "Telephone and broadband", "7502", "T1", "148.75"),
    ("Ashworth & Co Chartered Accountants", "Bookkeeping and payroll", "7600", "T1", "395.00"),
]

CARRIAGE = [
    ("Carriage - next working day", "9.95"),
    ("Carriage - standard", "6.50"),
    ("Pallet delivery", "45.00"),
    ("Carriage - timed delivery before 10am", "14.50"),
]

# (code prefix, description, variants, unit cost, sales nominal, tax code). Costs in pounds.
CATALOGUE = [
    ("PAP", "Copier paper A4 80gsm, box of 5 reams", ["white", "ivory", "recycled", "bright white", "tinted blue"],
     "18.40", "4000", "T1"),
    ("PAP", "Copier paper A3 80gsm, box of 5 reams", ["white", "recycled", "ivory"], "31.20", "4000", "T1"),
    ("ENV", "Envelopes, box of 500", ["DL self-seal", "C5 self-seal", "C4 peel and seal", "DL window", "C5 window"],
     "9.85", "4000", "T1"),
    ("PEN", "Ballpoint pens, box of 50", ["black", "blue", "red", "green"], "4.10", "4000", "T1"),
    ("PEN", "Highlighters, wallet of 6", ["assorted", "yellow", "pastel"], "2.35", "4000", "T1"),
    ("FIL", "Lever arch files, pack of 10", ["black", "blue", "red", "green", "grey"], "12.60", "4000", "T1"),
    ("FIL", "Suspension files, box of 50", ["foolscap", "A4"], "16.90", "4000", "T1"),
    ("LBL", "Address labels, 100 sheets", ["14 per sheet", "16 per sheet", "21 per sheet", "24 per sheet"],
     "8.75", "4000", "T1"),
    ("TNR", "Laser toner cartridge", ["black HY", "cyan", "magenta", "yellow", "black standard"],
     "46.00", "4000", "T1"),
    ("INK", "Inkjet cartridge", ["black", "colour", "black XL", "colour XL"], "14.20", "4000", "T1"),
    ("CHR", "Task chair", ["black mesh", "grey fabric", "blue fabric", "leather effect", "high back mesh"],
     "64.00", "4000", "T1"),
    ("DSK", "Office desk", ["1200mm straight", "1400mm straight", "1600mm wave", "1800mm corner", "height adjustable"],
     "118.00", "4000", "T1"),
    ("CAB", "Steel filing cabinet", ["2 drawer", "3 drawer", "4 drawer"], "96.00", "4000", "T1"),
    ("LED", "LED panel 600x600", ["cool white", "neutral white", "warm white"], "17.80", "4000", "T1"),
    ("LED", "LED lamp", ["GU10 5W", "E27 9W", "B22 9W", "E14 5W", "T8 tube 4ft", "T8 tube 5ft"], "1.95", "4000", "T1"),
    ("CBL", "Twin and earth cable, 100m", ["1.0mm", "1.5mm", "2.5mm", "6.0mm"], "38.50", "4000", "T1"),
    ("SCR", "Wood screws, box of 200", ["3.5x30", "4x40", "4x50", "5x60", "5x70", "6x80"], "3.40", "4000", "T1"),
    ("FIX", "Wall plugs, bag of 1000", ["red", "brown", "blue"], "4.65", "4000", "T1"),
    ("WSH", "Steel washers M6, per washer", ["zinc plated", "stainless", "bright"], "0.0175", "4000", "T1"),
    ("CLN", "Multi-surface cleaner 5L", ["original", "citrus", "unfragranced"], "6.30", "4000", "T1"),
    ("CLN", "Blue centrefeed rolls, pack of 6", ["2 ply", "1 ply"], "11.40", "4000", "T1"),
    ("BAG", "Refuse sacks, roll of 200", ["black heavy duty", "clear", "compostable"], "9.20", "4000", "T1"),
    ("GLV", "Nitrile gloves, box of 100", ["small", "medium", "large", "extra large"], "3.95", "4000", "T1"),
    ("PPE", "Hi-vis vest", ["yellow M", "yellow L", "yellow XL", "orange L"], "1.60", "4000", "T1"),
    ("PPE", "Safety boots", ["size 7", "size 8", "size 9", "size 10", "size 11"], "22.50", "4000", "T1"),
    ("BOX", "Double wall cartons, pack of 15", ["small", "medium", "large", "extra large"], "12.10", "4000", "T1"),
    ("TAP", "Packing tape 48mm x 66m, 6 rolls", ["brown", "clear", "fragile printed"], "5.05", "4000", "T1"),
    ("TEA", "Tea bags, catering pack of 1100", ["everyday", "decaf"], "17.60", "4000", "T0"),
    ("COF", "Coffee beans 1kg", ["house blend", "espresso", "decaf", "single origin"], "11.80", "4000", "T0"),
    ("MLK", "UHT milk portions, box of 120", ["semi-skimmed", "whole"], "5.40", "4000", "T0"),
    ("SUG", "Sugar sticks, box of 1000", ["white", "brown"], "9.10", "4000", "T0"),
    ("BIS", "Chocolate biscuit assortment, 2kg", ["luxury", "everyday"], "10.20", "4000", "T1"),
    ("BKS", "Accounts analysis book", ["6 column", "10 column", "16 column"], "5.70", "4000", "T0"),
    ("BKS", "Health and safety handbook", ["2026 edition", "pocket edition"], "8.40", "4000", "T0"),
    ("STP", "Stapler", ["half strip", "full strip", "long arm", "heavy duty"], "5.80", "4000", "T1"),
    ("STP", "Staples, box of 5000", ["26/6", "24/6", "23/8", "23/13"], "0.95", "4000", "T1"),
    ("NBK", "Notebook", ["A4 ruled", "A5 ruled", "A4 squared", "A5 dotted", "reporter's"], "1.45", "4000", "T1"),
    ("WBD", "Whiteboard", ["600x450", "900x600", "1200x900", "1800x1200"], "24.00", "4000", "T1"),
    ("WBD", "Whiteboard markers, wallet of 4", ["assorted", "black", "blue"], "2.60", "4000", "T1"),
    ("KBD", "Keyboard and mouse set", ["wired", "wireless", "ergonomic"], "15.90", "4000", "T1"),
    ("MON", "Monitor", ["22 inch", "24 inch", "27 inch"], "89.00", "4000", "T1"),
    ("USB", "USB-C cable", ["1m", "2m", "braided 1m", "braided 2m"], "2.10", "4000", "T1"),
    ("HDM", "HDMI cable", ["1m", "2m", "5m", "10m"], "2.80", "4000", "T1"),
    ("BAT", "Batteries, pack of 24", ["AA", "AAA", "C", "D"], "7.30", "4000", "T1"),
    ("HSC", "Hand soap 5L", ["antibacterial", "foaming", "sensitive"], "7.90", "4000", "T1"),
    ("CUP", "Paper cups, sleeve of 1000", ["8oz", "12oz", "16oz", "7oz vending"], "23.40", "4000", "T1"),
    ("WTR", "Still water 500ml, case of 24", ["still", "sparkling"], "3.70", "4000", "T0"),
    ("SNK", "Crisps, case of 32", ["ready salted", "salt and vinegar", "cheese and onion"], "7.20", "4000", "T1"),
    ("FAK", "First aid kit", ["small", "medium", "large", "vehicle"], "13.60", "4000", "T1"),
    ("EXT", "Fire extinguisher", ["2kg CO2", "6L foam", "9L water", "2kg powder"], "26.50", "4000", "T1"),
    ("INS", "Loft insulation roll", ["100mm", "150mm", "200mm"], "19.30", "4000", "T5"),
    ("HTC", "Heating controls kit, installed", ["smart thermostat", "TRV pack of 6"], "74.00", "4000", "T5"),
    ("CHS", "Child car seat", ["group 0+", "group 1", "group 2/3"], "41.00", "4000", "T5"),
    ("SAN", "Sanitary products, case of 240", ["regular", "super"], "21.30", "4000", "T0"),
    ("SVC", "Installation labour, per hour", ["electrician", "joiner", "IT engineer"], "0", "4010", "T1"),
    ("SVC", "Maintenance contract, annual", ["bronze", "silver", "gold"], "0", "4010", "T1"),
    ("REP", "Repair service", ["chair", "desk", "printer"], "0", "4040", "T1"),
]

# Sales prices are cost times a margin; services have a fixed hourly or annual price instead.
SERVICE_PRICES = {"SVC": ("48.00", "420.00"), "REP": ("35.00", "75.00")}
