module github.com/libgeomloss/libgeomloss

go 1.26
