<?php
header('Content-Type: text/plain');
echo "Hello from PHP ", PHP_VERSION, " behind gale\n";
