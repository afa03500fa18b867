<?php
// The front controller: every path that is not a file ends up here.
header('Content-Type: text/plain');
echo "front controller: ", $_SERVER['REQUEST_URI'], "\n";
