"""`python -m components.patches`: install the patches and list them."""

from components.patches import install, installed_patches

install()
for patch in installed_patches():
    print(f"{patch.target}\n    {patch.reason}")
