"""The project's database engine: django-mongodb-backend with one change to the queries it sends
(core.mongodb.match_shape), so filtered lists are served from their indexes (issue 17)."""
