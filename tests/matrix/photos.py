from tests.matrix import EVERYONE, page

MATRIX = {
    # The index only redirects home; each photo is checked by the site scope and its owner's rule.
    "photos": page(read=EVERYONE),
}
