"""The rules of Desa Binaan, in pure Python: no Flask, no SQLAlchemy."""
